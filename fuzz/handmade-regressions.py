#!/usr/bin/env python3
"""Writes the hand-made regression inputs for the crashes and hangs issue 13 lists (one file each).

Run from anywhere: python3 fuzz/handmade-regressions.py (writes fuzz/regressions/<target>/). The bpf-object inputs patch the
committed clang object bpf/examples/hello.bpf.o; the rest are built from the formats' layouts.
Each file name says what the input does; fuzz/README.md lists them with the guard that now rejects it.
"""
import gzip, os, struct, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions")


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ehdr(machine=62, etype=2, phoff=0, shoff=0, phnum=0, shnum=0, shstrndx=0, phentsize=56, shentsize=64):
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, 0, phoff, shoff, 0, 64, phentsize, phnum, shentsize, shnum, shstrndx)


def shdr(name=0, stype=0, flags=0, addr=0, offset=0, size=0, link=0, info=0, align=0, entsize=0):
    return struct.pack("<IIQQQQIIQQ", name, stype, flags, addr, offset, size, link, info, align, entsize)


def phdr(ptype=1, flags=6, offset=0, vaddr=0, paddr=0, filesz=0, memsz=0, align=0x1000):
    return struct.pack("<IIQQQQQQ", ptype, flags, offset, vaddr, paddr, filesz, memsz, align)


# ElfFile: e_phnum 0xffff takes the count from section 0's sh_info (here 2^32 - 1); the program-header
# array used to be allocated before the table was checked against the file.
put("elf", "phnum-0xffff-count-from-sh_info", ehdr(phoff=64, shoff=128, phnum=0xffff, shnum=1) + bytes(64) + shdr(info=0xffffffff))
# A program header whose p_offset + p_filesz wraps past 2^64.
put("elf", "phdr-offset-filesz-wraps", ehdr(phoff=64, phnum=1) + phdr(ptype=4, offset=0xffffffffffffff00, filesz=0x200, memsz=0x200))

# GoBuildInfo.FromElf: a writable PT_LOAD with p_offset + p_filesz wrapping (used to slice with a negative length).
# (2^64 - 16) + 32 wraps to 16, inside the 120-byte file: the old check passed and sliced at offset -16.
put("go-buildinfo", "fromelf-segment-offset-wraps", ehdr(phoff=64, phnum=1) + phdr(offset=0xfffffffffffffff0, filesz=0x20, memsz=0x20))
# The pre-1.18 pointer layout whose pointers lead outside the file: as a flat blob and inside an ELF
# (the resolver's "outside the file" null used to become an empty slice, then an out-of-range read).
blob = b"\xff Go buildinf:" + bytes([8, 0]) + struct.pack("<QQ", 0xdeadbeef00, 0xdeadbeef10)
blob += bytes(32 - len(blob) % 32) if len(blob) % 32 else b""
put("go-buildinfo", "pre1.18-pointers-unmapped", blob)
seg_at = 0x1000
elf = ehdr(phoff=64, phnum=1) + phdr(offset=seg_at, vaddr=0x400000, filesz=len(blob), memsz=len(blob))
put("go-buildinfo", "pre1.18-pointers-unmapped.elf", elf + bytes(seg_at - len(elf)) + blob)
# Pointers to a string header that is mapped but whose string length runs past the segment.
hdr_va = 0x400000 + 32
blob2 = b"\xff Go buildinf:" + bytes([8, 0]) + struct.pack("<QQ", hdr_va, hdr_va) + struct.pack("<QQ", 0x400000, 0xffff)
put("go-buildinfo", "pre1.18-string-past-segment.elf", ehdr(phoff=64, phnum=1) + phdr(offset=seg_at, vaddr=0x400000, filesz=len(blob2), memsz=len(blob2)) + bytes(seg_at - 120) + blob2)

# EmbeddedBpfObjects: an EM_BPF header inside a file whose e_shoff + e_shnum * 64 wraps to 0 (a negative
# slice, and an object of length 0 made Find loop forever).
def bpf_header(shoff, shnum):
    return b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack("<HHIQQQIHHHHHH", 1, 247, 1, 0, 0, shoff, 0, 64, 0, 0, 64, shnum, 0)
put("bpf-embedded", "shoff-plus-table-wraps-to-zero", b"prefix--" * 4 + bpf_header(2**64 - 64, 1) + bytes(64))
put("bpf-embedded", "shoff-plus-table-wraps-small", b"prefix--" * 4 + bpf_header(2**64 - 64, 2) + bytes(128))

# GoroutineDump: a header without an id.
put("goroutines", "header-without-id", b"goroutine [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n")
# A header whose state holds terminal control bytes (escaped in [ERROR] lines, tested in the CLI tests).
put("goroutines", "control-bytes-in-header", b"goroutine 1 \x1b]0;owned\x07\x00\r[running]\n")

# BTF: types are 1-based; header 24 bytes (magic eb9f, version 1, flags 0, hdr_len 24, type_off, type_len, str_off, str_len).
def btf(types, strings):
    t = b"".join(types)
    return struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(t), len(t), len(strings)) + t + strings
def btf_type(name_off, kind, vlen, size_or_type, kind_flag=0):
    return struct.pack("<III", name_off, (kind_flag << 31) | (kind << 24) | vlen, size_or_type)
strings = b"\x00int\x00p\x00t\x00s\x00x\x00"
INT = btf_type(1, 1, 0, 4) + struct.pack("<I", 32)                      # [1] int, 32 bits
# [2] anonymous struct { [3] *p; }  [3] PTR -> [2]  [4] typedef t -> [2]: btf c recursed until the stack overflowed.
anon = btf_type(0, 4, 1, 8) + struct.pack("<III", 5, 3, 0)
put("btf", "anonymous-struct-points-to-itself", btf([INT, anon, btf_type(0, 2, 0, 2), btf_type(7, 8, 0, 2)], strings))
# [2] struct s { int x; } of size 0xffffffff: btf c wrote gigabytes of padding from an 80-byte file.
big = btf_type(9, 4, 1, 0xffffffff) + struct.pack("<III", 11, 1, 0)
put("btf", "struct-size-0xffffffff", btf([INT, big], strings))

# pprof: a gzip member inflating to 257 MiB (over the 256 MiB limit: refused from the trailer, nothing
# inflated), and the same member with its trailer lying (ISIZE 1000: inflation stops after 1000 bytes).
bomb = gzip.compress(bytes(257 << 20), compresslevel=9, mtime=0)
put("pprof-gzip", "bomb-257MiB", bomb)
small = gzip.compress(bytes(17 << 20), compresslevel=9, mtime=0)
put("pprof-gzip", "bomb-trailer-lies", small[:-4] + struct.pack("<I", 1000))
put("kconfig", "bomb-17MiB.gz", small)   # over KernelConfig's 16 MiB limit

# bpf-object: patches of the real clang object bpf/examples/hello.bpf.o.
obj = bytearray(open(os.path.join(root, "..", "..", "bpf", "examples", "hello.bpf.o"), "rb").read())
shoff, = struct.unpack_from("<Q", obj, 40)
shnum, = struct.unpack_from("<H", obj, 60)
shstrndx, = struct.unpack_from("<H", obj, 62)
def section(i):
    return struct.unpack_from("<IIQQQQIIQQ", obj, shoff + 64 * i)
names_off = section(shstrndx)[4]
def name_of(i):
    n = section(i)[0]
    end = obj.index(0, names_off + n)
    return obj[names_off + n:end].decode()
index = {name_of(i): i for i in range(shnum)}
rel = next(i for i in range(shnum) if section(i)[1] == 9 and name_of(i).startswith(".reltracepoint"))
rel_off = section(rel)[4]
symtab = index[".symtab"]
sym_off = section(symtab)[4]

o = bytearray(obj)   # relocation 0's symbol index far past .symtab
struct.pack_into("<Q", o, rel_off + 8, (0xffffff << 32) | 1)
put("bpf-object", "relocation-symbol-index-outside-symtab", bytes(o))
o = bytearray(obj)   # the symbol relocation 0 names gets st_shndx SHN_ABS (0xfff1), then used as a section index
info, = struct.unpack_from("<Q", obj, rel_off + 8)
struct.pack_into("<H", o, sym_off + 24 * (info >> 32) + 6, 0xfff1)
put("bpf-object", "relocation-symbol-shn-abs", bytes(o))
o = bytearray(obj)   # .bss (SHT_NOBITS) claiming 1 GiB: allocated as given, bpf load took 17 s and 1 GB
struct.pack_into("<Q", o, shoff + 64 * index[".bss"] + 32, 1 << 30)
put("bpf-object", "bss-1GiB", bytes(o))
o = bytearray(obj)   # .bss claiming 2^63: the size did not fit an int (OverflowException)
struct.pack_into("<Q", o, shoff + 64 * index[".bss"] + 32, 1 << 63)
put("bpf-object", "bss-2pow63", bytes(o))
print("wrote", sum(len(f) for _, _, f in os.walk(root)), "files under", root)

# kallsyms: a line with too few fields (and a control byte), and a module line with extra fields.
put("kallsyms", "short-line-with-control-bytes", b"ffffffff81000000 T _stext\nffffffff81000010 T\x1b[31m\n")
put("kallsyms", "module-and-extra-fields", b"ffffffffc0000000 t init_module\t[mod] extra fields\n0000000000000000 T zero\n")
# perf records: a SAMPLE with PERF_SAMPLE_CALLCHAIN whose nr claims 2^60 entries (checked against the record before allocating).
rec = struct.pack("<Q", 1 << 60) + struct.pack("<Q", 0xffffffff81000000)
put("perf-records", "callchain-nr-2pow60", struct.pack("<Q", 1 << 5) + struct.pack("<IHH", 9, 0, 8 + len(rec)) + rec)
