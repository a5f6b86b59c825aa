namespace Kscope.Kernel.Bpf;

/// <summary>What BPF_PROG_TEST_RUN reported: the program's return value, average ns per run, output data and context.</summary>
public readonly record struct TestRunResult(uint ReturnValue, TimeSpan Duration, byte[] DataOut, byte[] ContextOut);
