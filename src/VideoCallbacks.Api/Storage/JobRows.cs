using System.Data.Common;
using System.Text.Json;
using Dapper;
using VideoCallbacks.Api.Jobs;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Storage;

/// <summary>The <c>jobs</c> table as every feature reads and writes it: one mapping, one column list.</summary>
public static class JobRows
{
    public const string Columns = """
        job_id AS JobId, client AS Client, provider AS Provider, provider_task_id AS ProviderTaskId, status AS Status, submission AS Submission,
        progress AS Progress, video_urls AS VideoUrls, error_code AS ErrorCode, error_message AS ErrorMessage,
        correlation_id AS CorrelationId, metadata AS Metadata, source_task_id AS SourceTaskId, idx AS Idx,
        request_json AS RequestJson, token_hash AS TokenHash, secret_hash AS SecretHash, created_at AS CreatedAt,
        updated_at AS UpdatedAt, next_check_at AS NextCheckAt, check_attempts AS CheckAttempts, videos AS Videos,
        archive_status AS ArchiveStatus, archive_error_code AS ArchiveErrorCode, archive_error_message AS ArchiveErrorMessage,
        archive_next_at AS ArchiveNextAt
        """;

    public static async Task<Job?> LoadAsync(SqlDatabase db, DbConnection c, DbTransaction? tx, string jobId, bool lockRow, CancellationToken ct)
    {
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs WHERE job_id = @jobId{(lockRow ? db.ForUpdate : "")}", new { jobId }, tx, cancellationToken: ct));
        return row?.ToJob();
    }

    public static Task InsertAsync(DbConnection c, DbTransaction tx, Job job, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO jobs (job_id, client, provider, provider_task_id, status, submission, progress, video_urls, error_code, error_message,
                correlation_id, metadata, source_task_id, idx, request_json, token_hash, secret_hash, created_at, updated_at,
                next_check_at, check_attempts, videos, archive_status, archive_error_code, archive_error_message, archive_next_at)
            VALUES (@JobId, @Client, @Provider, @ProviderTaskId, @Status, @Submission, @Progress, @VideoUrls, @ErrorCode, @ErrorMessage,
                @CorrelationId, @Metadata, @SourceTaskId, @Idx, @RequestJson, @TokenHash, @SecretHash, @CreatedAt, @UpdatedAt,
                @NextCheckAt, @CheckAttempts, @Videos, @ArchiveStatus, @ArchiveErrorCode, @ArchiveErrorMessage, @ArchiveNextAt)
            """, JobRow.From(job), tx, cancellationToken: ct));

    /// <summary>Which jobs own these provider task ids (task id -> job id); ids nobody owns are absent.</summary>
    public static async Task<Dictionary<string, string>> TaskOwnersAsync(DbConnection c, DbTransaction tx, string provider, IReadOnlyList<string> taskIds, CancellationToken ct)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var taskId in taskIds)
        {
            var owner = await c.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
                "SELECT job_id FROM jobs WHERE provider = @provider AND provider_task_id = @taskId", new { provider, taskId }, tx, cancellationToken: ct));
            if (owner is not null) owners[taskId] = owner;
        }
        return owners;
    }

    public static Task UpdateAsync(DbConnection c, DbTransaction tx, Job job, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs SET provider_task_id = @ProviderTaskId, status = @Status, submission = @Submission, progress = @Progress,
                video_urls = @VideoUrls, error_code = @ErrorCode, error_message = @ErrorMessage, updated_at = @UpdatedAt,
                next_check_at = @NextCheckAt, check_attempts = @CheckAttempts, videos = @Videos, archive_status = @ArchiveStatus,
                archive_error_code = @ArchiveErrorCode, archive_error_message = @ArchiveErrorMessage, archive_next_at = @ArchiveNextAt
            WHERE job_id = @JobId
            """, JobRow.From(job), tx, cancellationToken: ct));

    public static async Task UpdateManyAsync(SqlDatabase db, DbConnection c, DbTransaction tx, IReadOnlyList<Job> jobs, CancellationToken ct)
    {
        if (jobs.Count == 0) return;
        var rows = jobs.Select(JobRow.From).ToList();
        if (!db.ArrayParameters)
        {
            // SQLite: one UPDATE ... FROM jsonb_each for the batch (a statement per job cost more than the rows did).
            var json = JsonRows(rows.Select(r => new object?[]
            {
                r.JobId, r.ProviderTaskId, r.Status, r.Submission, r.Progress, r.VideoUrls, r.ErrorCode, r.ErrorMessage, r.UpdatedAt,
                r.NextCheckAt, r.CheckAttempts, r.Videos, r.ArchiveStatus, r.ArchiveErrorCode, r.ArchiveErrorMessage, r.ArchiveNextAt,
            }));
            await c.ExecuteAsync(new CommandDefinition("""
                UPDATE jobs SET provider_task_id = v.tk, status = v.st, submission = v.sb, progress = v.pg, video_urls = v.vu,
                    error_code = v.ec, error_message = v.em, updated_at = v.ua, next_check_at = v.nc, check_attempts = v.ca,
                    videos = v.vd, archive_status = v.ast, archive_error_code = v.aec, archive_error_message = v.aem, archive_next_at = v.ana
                FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS tk, json_extract(value, '$[2]') AS st,
                             json_extract(value, '$[3]') AS sb, json_extract(value, '$[4]') AS pg, json_extract(value, '$[5]') AS vu,
                             json_extract(value, '$[6]') AS ec, json_extract(value, '$[7]') AS em, json_extract(value, '$[8]') AS ua,
                             json_extract(value, '$[9]') AS nc, json_extract(value, '$[10]') AS ca, json_extract(value, '$[11]') AS vd,
                             json_extract(value, '$[12]') AS ast, json_extract(value, '$[13]') AS aec, json_extract(value, '$[14]') AS aem,
                             json_extract(value, '$[15]') AS ana
                      FROM jsonb_each(@json)) AS v
                WHERE jobs.job_id = v.id
                """, new { json }, tx, cancellationToken: ct));
            return;
        }
        // One UPDATE ... FROM unnest(...) for the batch: one round trip, and one statement text for any batch (prepared once).
        await c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs AS j SET provider_task_id = v.tk, status = v.st, submission = v.sb, progress = v.pg, video_urls = v.vu,
                error_code = v.ec, error_message = v.em, updated_at = v.ua, next_check_at = v.nc, check_attempts = v.ca,
                videos = v.vd, archive_status = v.ast, archive_error_code = v.aec, archive_error_message = v.aem, archive_next_at = v.ana
            FROM unnest(@ids, @tks, @sts, @sbs, @pgs, @vus, @ecs, @ems, @uas, @ncs, @cas, @vds, @asts, @aecs, @aems, @anas)
                AS v(id, tk, st, sb, pg, vu, ec, em, ua, nc, ca, vd, ast, aec, aem, ana)
            WHERE j.job_id = v.id
            """, new
            {
                ids = rows.Select(r => r.JobId).ToArray(), tks = rows.Select(r => r.ProviderTaskId).ToArray(),
                sts = rows.Select(r => r.Status).ToArray(), sbs = rows.Select(r => r.Submission).ToArray(),
                pgs = rows.Select(r => r.Progress).ToArray(), vus = rows.Select(r => r.VideoUrls).ToArray(),
                ecs = rows.Select(r => r.ErrorCode).ToArray(), ems = rows.Select(r => r.ErrorMessage).ToArray(),
                uas = rows.Select(r => r.UpdatedAt).ToArray(), ncs = rows.Select(r => r.NextCheckAt).ToArray(),
                cas = rows.Select(r => r.CheckAttempts).ToArray(), vds = rows.Select(r => r.Videos).ToArray(),
                asts = rows.Select(r => r.ArchiveStatus).ToArray(), aecs = rows.Select(r => r.ArchiveErrorCode).ToArray(),
                aems = rows.Select(r => r.ArchiveErrorMessage).ToArray(), anas = rows.Select(r => r.ArchiveNextAt).ToArray(),
            }, tx, cancellationToken: ct));
    }
}

/// <summary>A <c>jobs</c> row as Dapper reads it; times in Unix milliseconds, lists and maps as JSON.</summary>
public sealed class JobRow
{
    public string JobId { get; set; } = "";
    public string Client { get; set; } = Security.AuthOptions.DefaultClient;
    public string Provider { get; set; } = "";
    public string? ProviderTaskId { get; set; }
    public string Status { get; set; } = "";
    public string Submission { get; set; } = "";
    public long Progress { get; set; }
    public string VideoUrls { get; set; } = "[]";
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string? CorrelationId { get; set; }
    public string Metadata { get; set; } = "{}";
    public string? SourceTaskId { get; set; }
    public long? Idx { get; set; }
    public string RequestJson { get; set; } = "";
    public string TokenHash { get; set; } = "";
    public string? SecretHash { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
    public long? NextCheckAt { get; set; }
    public long CheckAttempts { get; set; }
    public string Videos { get; set; } = "[]";
    public string? ArchiveStatus { get; set; }
    public string? ArchiveErrorCode { get; set; }
    public string? ArchiveErrorMessage { get; set; }
    public long? ArchiveNextAt { get; set; }

    public static JobRow From(Job j) => new()
    {
        JobId = j.JobId, Client = j.Client, Provider = j.Provider, ProviderTaskId = j.ProviderTaskId, Status = j.Status, Submission = j.Submission,
        Progress = j.Progress, VideoUrls = JsonSerializer.Serialize(j.VideoUrls), ErrorCode = j.Error?.Code, ErrorMessage = j.Error?.Message,
        CorrelationId = j.CorrelationId, Metadata = JsonSerializer.Serialize(j.Metadata), SourceTaskId = j.SourceTaskId, Idx = j.Index,
        RequestJson = j.RequestJson, TokenHash = j.TokenHash, SecretHash = j.SecretHash, CreatedAt = Ms(j.CreatedAt),
        UpdatedAt = Ms(j.UpdatedAt), NextCheckAt = Ms(j.NextCheckAt), CheckAttempts = j.CheckAttempts,
        Videos = JsonSerializer.Serialize(j.Videos), ArchiveStatus = j.Archive?.Status, ArchiveErrorCode = j.Archive?.Error?.Code,
        ArchiveErrorMessage = j.Archive?.Error?.Message, ArchiveNextAt = Ms(j.ArchiveNextAt),
    };

    public Job ToJob() => new()
    {
        JobId = JobId, Client = Client, Provider = Provider, ProviderTaskId = ProviderTaskId, Status = Status, Submission = Submission,
        Progress = (int)Progress, VideoUrls = JsonSerializer.Deserialize<List<string>>(VideoUrls) ?? [],
        Error = ErrorCode is null ? null : new JobError(ErrorCode, ErrorMessage ?? ""),
        CorrelationId = CorrelationId, Metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(Metadata) ?? [],
        SourceTaskId = SourceTaskId, Index = (int?)Idx, RequestJson = RequestJson, TokenHash = TokenHash, SecretHash = SecretHash,
        CreatedAt = FromMs(CreatedAt)!.Value, UpdatedAt = FromMs(UpdatedAt)!.Value, NextCheckAt = FromMs(NextCheckAt),
        CheckAttempts = (int)CheckAttempts, Videos = JsonSerializer.Deserialize<List<JobVideo>>(Videos) ?? [],
        Archive = ArchiveStatus is null ? null
            : new JobArchive(ArchiveStatus, ArchiveErrorCode is null ? null : new JobError(ArchiveErrorCode, ArchiveErrorMessage ?? "")),
        ArchiveNextAt = FromMs(ArchiveNextAt),
    };
}
