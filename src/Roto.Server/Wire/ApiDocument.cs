using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Roto.Server.Wire;

/// <summary>
/// Endpoint metadata naming the JSON object an endpoint reads itself with <see cref="JsonBody"/>, for the API document
/// only. Not <c>Accepts&lt;T&gt;</c>: its metadata has routing answer 415 to a request whose Content-Type is anything
/// else, and these endpoints read the body as JSON whatever the request declares.
/// </summary>
public sealed record JsonRequestBody(Type Type);

/// <summary>A request field that Roto accepts, so that Kling clients can send it, and then does nothing with.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class IgnoredByRotoAttribute : Attribute;

/// <summary>What /openapi/v1.json says beyond what the endpoints' signatures tell the generator.</summary>
public static class ApiDocument
{
    public const string IgnoredDescription = "Accepted for compatibility; Roto ignores it.";
    public const string IgnoredExtension = "x-roto-ignored";

    /// <summary>Documents <typeparamref name="T"/> as the endpoint's JSON request body.</summary>
    public static RouteHandlerBuilder ReadsJson<T>(this RouteHandlerBuilder endpoint) => endpoint.WithMetadata(new JsonRequestBody(typeof(T)));

    public static void Configure(OpenApiOptions o)
    {
        // Without a title the document (and the page at /docs) is called after the assembly: "Roto.Server | v1".
        o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Roto";
            document.Info.Description = "Kling AI's Multi-Elements video editing API, self-hosted, with Roto's extensions.";
            return Task.CompletedTask;
        });
        o.AddOperationTransformer(DescribeJsonBodyAsync);
        o.AddSchemaTransformer(MarkIgnored);
    }

    private static async Task DescribeJsonBodyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<JsonRequestBody>().LastOrDefault() is not { } body) return;
        IOpenApiSchema schema = await context.GetOrCreateSchemaAsync(body.Type, null, ct);
        // One shared component per request type, as the generator does for response types, instead of a copy per route.
        if (context.Document is { } document)
        {
            document.AddComponent(body.Type.Name, schema);
            schema = new OpenApiSchemaReference(body.Type.Name, document);
        }
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
        };
    }

    private static Task MarkIgnored(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (context.JsonPropertyInfo?.AttributeProvider is not MemberInfo member || member.GetCustomAttribute<IgnoredByRotoAttribute>() == null)
            return Task.CompletedTask;
        schema.Description = string.IsNullOrEmpty(schema.Description) ? IgnoredDescription : $"{IgnoredDescription} {schema.Description}";
        schema.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        schema.Extensions[IgnoredExtension] = new JsonNodeExtension(JsonValue.Create(true));
        return Task.CompletedTask;
    }
}
