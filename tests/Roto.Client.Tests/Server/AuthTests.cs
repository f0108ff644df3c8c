using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Roto.Client.Tests.Server;

/// <summary>Both authentication schemes, and the failures the server reports for bad credentials.</summary>
[Collection(ServerCollection.Name)]
public class AuthTests(RotoServer server)
{
    [Fact]
    public async Task Api_key_is_accepted()
    {
        using var roto = server.CreateClient();

        Assert.NotNull(await roto.ListTasksAsync());
    }

    [Fact]
    public async Task Access_and_secret_key_sign_tokens_the_server_accepts()
    {
        using var roto = server.CreateClient(o => (o.ApiKey, o.AccessKey, o.SecretKey) = (null, RotoServer.AccessKey, RotoServer.SecretKey));

        Assert.NotNull(await roto.ListTasksAsync());
    }

    [Theory]
    [InlineData(null, null, null, 1001)]
    [InlineData("not-a-key", null, null, 1002)]
    [InlineData(null, RotoServer.AccessKey, "wrong-secret-wrong-secret-wrong", 1002)]
    [InlineData(null, "unknown-access-key", RotoServer.SecretKey, 1002)]
    public async Task Bad_credentials_are_401_exceptions(string? apiKey, string? accessKey, string? secretKey, int code)
    {
        using var roto = server.CreateClient(o => (o.ApiKey, o.AccessKey, o.SecretKey) = (apiKey, accessKey, secretKey));

        var error = await Assert.ThrowsAsync<RotoApiException>(() => roto.ListTasksAsync());

        Assert.Equal((code, HttpStatusCode.Unauthorized), (error.Code, error.HttpStatus));
    }

    [Fact]
    public async Task The_http_client_factory_registration_authenticates_and_reaches_the_server()
    {
        var services = new ServiceCollection();
        services.AddRotoClient(o =>
        {
            o.BaseUrl = server.BaseUrl;
            (o.AccessKey, o.SecretKey) = (RotoServer.AccessKey, RotoServer.SecretKey);
        }).ConfigurePrimaryHttpMessageHandler(() => server.Factory.Server.CreateHandler());
        await using var provider = services.BuildServiceProvider();

        var roto = provider.GetRequiredService<RotoClient>();

        Assert.NotNull(await roto.ListTasksAsync());
        var error = await Assert.ThrowsAsync<RotoApiException>(() => roto.GetTaskAsync("999999999999999999"));
        Assert.Equal(1203, error.Code);
    }
}
