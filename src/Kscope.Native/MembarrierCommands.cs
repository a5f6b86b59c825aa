namespace Kscope.Native;

/// <summary>enum membarrier_cmd, include/uapi/linux/membarrier.h: commands, and the mask MEMBARRIER_CMD_QUERY returns.</summary>
[Flags]
public enum MembarrierCommands
{
    Query = 0,
    Global = 1 << 0,
    GlobalExpedited = 1 << 1,
    RegisterGlobalExpedited = 1 << 2,
    PrivateExpedited = 1 << 3,
    RegisterPrivateExpedited = 1 << 4,
    PrivateExpeditedSyncCore = 1 << 5,
    RegisterPrivateExpeditedSyncCore = 1 << 6,
    PrivateExpeditedRseq = 1 << 7,
    RegisterPrivateExpeditedRseq = 1 << 8,
    GetRegistrations = 1 << 9,
}
