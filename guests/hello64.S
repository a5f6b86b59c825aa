# hello64.S: a long-mode guest for `kscope kvm run guests/hello64.bin --mode long`.
# kscope enters it in 64-bit mode with the first 1 GiB identity-mapped, so absolute addresses are physical.
# Prints "hello from the guest (64-bit)" with one REP OUTSB, then halts. (KVM may deliver the string in one
# KVM_EXIT_IO with count > 1, or, as under PVM, one exit per byte: kscope handles both.)
        .code64
        .text
        .globl _start
_start:
        lea     msg(%rip), %rsi
        mov     $(end - msg), %ecx
        mov     $0x3f8, %dx
        cld
        rep outsb
1:      hlt
        jmp     1b
msg:    .ascii  "hello from the guest (64-bit)\n"
end:
