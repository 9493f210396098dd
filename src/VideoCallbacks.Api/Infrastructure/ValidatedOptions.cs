using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Infrastructure;

public static class ValidatedOptions
{
    /// <summary>
    /// The one way options are registered: bound from their section, checked with data annotations
    /// (<see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/> for rules across fields) and checked at
    /// start-up, so a bad value stops the service. Every message names the configuration key.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class =>
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();
}
