namespace Kscope.Native;

/// <summary>getrandom(2) flags, include/uapi/linux/random.h.</summary>
[Flags]
public enum GetRandomFlags
{
    None = 0,
    NonBlock = 0x1,   // GRND_NONBLOCK
    Random = 0x2,     // GRND_RANDOM
    Insecure = 0x4,   // GRND_INSECURE (5.6)
}
