using System.Net.Http.Json;
using System.Text.Json;

namespace VideoCallbacks.Testing;

/// <summary>The two HTTP steps every driver and test takes: POST JSON (with an idempotency key) and read a JSON answer.</summary>
public static class HttpExtensions
{
    /// <summary>POSTs <paramref name="body"/> as JSON, with an <c>Idempotency-Key</c> when given.</summary>
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonElement.Parse(text);
    }
}
