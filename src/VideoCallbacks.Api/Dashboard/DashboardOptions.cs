using System.ComponentModel.DataAnnotations;

namespace VideoCallbacks.Api.Dashboard;

public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>The longest <see cref="SessionLifetime"/> allowed; older session rows are deleted.</summary>
    public static readonly TimeSpan MaxSessionAge = TimeSpan.FromDays(7);

    /// <summary>How long a dashboard session lasts without use (sliding: each visit past half of it renews it).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00", ErrorMessage = "Dashboard:SessionLifetime must be between {1} and {2}.")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}
