using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Jobs;

/// <summary>Reads one job as stored; shared by the job endpoint, callback verification and status checks.</summary>
public sealed class JobReader(SqlDatabase db)
{
    public Task<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken) =>
        db.ReadAsync(c => JobRows.LoadAsync(db, c, null, jobId, lockRow: false, cancellationToken), cancellationToken);
}
