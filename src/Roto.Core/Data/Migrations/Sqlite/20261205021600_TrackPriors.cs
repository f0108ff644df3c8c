using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Roto.Core.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TrackPriors : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PriorCounts",
                table: "FrameMasks",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "PriorCounts",
                table: "FrameMasks");
        }
    }
}
