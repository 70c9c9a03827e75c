namespace Atoll.Testing.Processes;

/// <summary>POSIX signal numbers that tests send to processes (Linux values).</summary>
public static class Signals
{
    public const int Interrupt = 2;

    public const int Kill = 9;

    public const int Terminate = 15;
}
