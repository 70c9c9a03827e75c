using System.Data.Common;

namespace Atoll.Storage.State;

/// <summary>Column lists and row mapping of the files, batches and batch_chunks tables.</summary>
internal static class BatchRows
{
    public const string FileColumns = "id, filename, purpose, bytes, object_key, created_at";

    public const string BatchColumns =
        "id, endpoint, model, input_file_id, completion_window, status, output_file_id, error_file_id, errors_json, metadata_json, " +
        "total, completed, failed, created_at, in_progress_at, expires_at, finalizing_at, completed_at, failed_at, expired_at, " +
        "cancelling_at, cancelled_at";

    public const string ChunkColumns =
        "batch_id, seq, start_offset, end_offset, first_line, line_count, state, attempt, lease_token, lease_expires_at, " +
        "worker_node, result_key, succeeded, failed, last_error";

    public static FileRecord File(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), DbCommands.FromUnixMs(r.GetInt64(5)));

    public static (string, object?)[] FileParameters(FileRecord f) =>
    [
        ("@id", f.Id), ("@filename", f.Filename), ("@purpose", f.Purpose), ("@bytes", f.Bytes), ("@object_key", f.ObjectKey),
        ("@created_at", DbCommands.ToUnixMs(f.CreatedAt)),
    ];

    public static BatchRecord Batch(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), DbCommands.NullableString(r, 2), r.GetString(3), r.GetString(4), r.GetString(5),
            DbCommands.NullableString(r, 6), DbCommands.NullableString(r, 7), DbCommands.NullableString(r, 8), DbCommands.NullableString(r, 9),
            r.GetInt32(10), r.GetInt32(11), r.GetInt32(12), DbCommands.FromUnixMs(r.GetInt64(13)),
            DbCommands.NullableTime(r, 14), DbCommands.NullableTime(r, 15), DbCommands.NullableTime(r, 16), DbCommands.NullableTime(r, 17),
            DbCommands.NullableTime(r, 18), DbCommands.NullableTime(r, 19), DbCommands.NullableTime(r, 20), DbCommands.NullableTime(r, 21));

    /// <summary>Parameters named like the columns: @id, @endpoint, ... (the same order as <see cref="BatchColumns"/>).</summary>
    public static (string, object?)[] BatchParameters(BatchRecord b) =>
    [
        ("@id", b.Id), ("@endpoint", b.Endpoint), ("@model", b.Model), ("@input_file_id", b.InputFileId),
        ("@completion_window", b.CompletionWindow), ("@status", b.Status), ("@output_file_id", b.OutputFileId),
        ("@error_file_id", b.ErrorFileId), ("@errors_json", b.ErrorsJson), ("@metadata_json", b.MetadataJson),
        ("@total", b.Total), ("@completed", b.Completed), ("@failed", b.Failed), ("@created_at", DbCommands.ToUnixMs(b.CreatedAt)),
        ("@in_progress_at", DbCommands.ToUnixMs(b.InProgressAt)), ("@expires_at", DbCommands.ToUnixMs(b.ExpiresAt)),
        ("@finalizing_at", DbCommands.ToUnixMs(b.FinalizingAt)), ("@completed_at", DbCommands.ToUnixMs(b.CompletedAt)),
        ("@failed_at", DbCommands.ToUnixMs(b.FailedAt)), ("@expired_at", DbCommands.ToUnixMs(b.ExpiredAt)),
        ("@cancelling_at", DbCommands.ToUnixMs(b.CancellingAt)), ("@cancelled_at", DbCommands.ToUnixMs(b.CancelledAt)),
    ];

    public static ChunkRecord Chunk(DbDataReader r) =>
        new(r.GetString(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4), r.GetInt32(5), r.GetString(6), r.GetInt32(7),
            DbCommands.NullableString(r, 8), DbCommands.NullableTime(r, 9), DbCommands.NullableString(r, 10), DbCommands.NullableString(r, 11),
            r.GetInt32(12), r.GetInt32(13), DbCommands.NullableString(r, 14));

    public static string Placeholders(string columns) =>
        string.Join(", ", columns.Split(", ").Select(c => "@" + c));

    public static string Assignments(string columns) =>
        string.Join(", ", columns.Split(", ").Skip(1).Select(c => $"{c} = @{c}"));
}
