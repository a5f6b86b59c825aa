# hello.S: a real-mode guest for `kscope kvm run guests/hello.bin`.
# Prints "hello from the guest" on COM1 (port 0x3f8), then halts.
# kscope starts real-mode guests with every segment register 0, so this code, linked at 0x1000 (the default
# --load), runs as linked: DS:SI = 0:msg.
        .code16
        .text
        .globl _start
_start:
        mov     $msg, %si
        mov     $0x3f8, %dx
        cld
1:      lodsb                   # al = *si++
        test    %al, %al
        jz      2f
        out     %al, %dx        # one KVM_EXIT_IO per byte
        jmp     1b
2:      hlt                     # KVM_EXIT_HLT: kscope stops and prints exit statistics
        jmp     2b
msg:    .asciz  "hello from the guest\n"
