/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp: connects (with latency and failures such as a refused connect), accepts, listens, closes,
 * other state changes and retransmits of the targets' TCP sockets. State changes mostly happen in
 * softirq context, so sockets are attributed to the process that connected, listened or accepted
 * (map `owners`); without any filter every TCP socket is reported.
 */
#include "common.h"

#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define TCP_LISTEN 10

/* 1: only what went wrong reaches the ring: failed connects, connections reset or aborted (ESTABLISHED -> CLOSE
 * without the FIN states), retransmits (kscope diagnose's tcp source; trace tcp --errors) */
const volatile __u8 errors_only = 0;

enum tcp_kind {
	TCP_KIND_CONNECT = 1,
	TCP_KIND_ACCEPT = 2,
	TCP_KIND_LISTEN = 3,
	TCP_KIND_CLOSE = 4,
	TCP_KIND_STATE = 5,
	TCP_KIND_RETRANSMIT = 6,
};

/* record of ring buffer `events` (kscope: TcpRecord) */
struct tcp_event {
	struct event_header h; /* the owning process (zero when unknown) */
	__u64 skaddr;
	__u64 latency_ns; /* connect: SYN sent to established or failed; close: lifetime */
	__u32 kind;
	__s32 oldstate;
	__s32 newstate;
	__s32 result; /* connect: 0, or -errno (ECONNREFUSED, ETIMEDOUT: sk_err), -1 when the kernel gave none */
	__u16 family; /* 2 AF_INET, 10 AF_INET6 */
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

struct owner {
	struct event_header h;
	__u64 since; /* SYN sent, accepted or listening */
};

/* sock:inet_sock_set_state (include/trace/events/sock.h; same layout since 4.16) */
struct set_state_ctx {
	__u64 common;
	const void *skaddr;
	__s32 oldstate;
	__s32 newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

/* tcp:tcp_retransmit_skb (include/trace/events/tcp.h), the part every kernel shares: later kernels (6.1) insert
 * `family` before the addresses (5.10 has none), and attaching a program that reads past the end of
 * the kernel's record fails with EACCES, so family and addresses come from the socket (CO-RE). */
struct retransmit_ctx {
	__u64 common;
	const void *skbaddr;
	const void *skaddr;
	__s32 state;
	__u16 sport;
	__u16 dport;
};

/* kernel socket structs for accept (CO-RE) */
struct in6_addr {
	union {
		__u8 u6_addr8[16];
	} in6_u;
} __attribute__((preserve_access_index));

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	int sk_err;
} __attribute__((preserve_access_index));

struct socket {
	struct sock *sk;
} __attribute__((preserve_access_index));

DECLARE_EVENTS(256);
KEEP_RECORD(tcp_event);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64); /* struct sock * */
	__type(value, struct owner);
} owners SEC(".maps");

/* listening sockets' owners by local port: a connection a listener receives (SYN_RECV, ESTABLISHED,
 * before accept() returns it) belongs to the listener's process */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* local port */
	__type(value, struct owner);
} listeners SEC(".maps");

static __always_inline bool any_filter(void)
{
	return filter_pids || filter_tid || filter_uid_on || filter_comm_on || filter_cgroup;
}

/* family and addresses of a socket (CO-RE; IPv4 in the first 4 bytes) */
static __always_inline void copy_sock_addrs(struct tcp_event *e, struct sock *s)
{
	e->family = BPF_CORE_READ(s, __sk_common.skc_family);
	if (e->family == 10) {
		BPF_CORE_READ_INTO(&e->saddr, s, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, s, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->saddr, s, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, s, __sk_common.skc_daddr);
	}
}

static __always_inline void set_owner(__u64 sk, __u64 now)
{
	struct owner o = {};
	fill_header(&o.h);
	o.since = now;
	bpf_map_update_elem(&owners, &sk, &o, BPF_ANY);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_set_state(struct set_state_ctx *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	__u64 sk = (__u64)ctx->skaddr, now = bpf_ktime_get_ns();
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	/* connect() and listen() change the state in the caller's context */
	__u32 sport = ctx->sport;
	if ((newstate == TCP_SYN_SENT || newstate == TCP_LISTEN) && current_allowed()) {
		set_owner(sk, now);
		if (newstate == TCP_LISTEN) {
			struct owner *l = bpf_map_lookup_elem(&owners, &sk);
			if (l)
				bpf_map_update_elem(&listeners, &sport, l, BPF_ANY);
		}
	}
	struct owner *o = bpf_map_lookup_elem(&owners, &sk);
	if (!o && oldstate != TCP_SYN_SENT && newstate != TCP_LISTEN) {
		/* a connection received by a listener of the targets (state changes in softirq context, from
		 * LISTEN -> SYN_RECV of the child socket on; the listener's own socket has its owner) */
		struct owner *l = bpf_map_lookup_elem(&listeners, &sport);
		if (l) {
			struct owner child = *l;
			child.since = now;
			bpf_map_update_elem(&owners, &sk, &child, BPF_ANY);
			o = bpf_map_lookup_elem(&owners, &sk);
		}
	}
	if (!o && any_filter())
		return 0;
	if (newstate == TCP_SYN_SENT)
		return 0; /* reported when the connect completes or fails */
	if (errors_only && !(oldstate == TCP_SYN_SENT && newstate != TCP_ESTABLISHED) &&
	    !(oldstate == TCP_ESTABLISHED && newstate == TCP_CLOSE)) {
		if (o && oldstate == TCP_SYN_SENT)
			o->since = now; /* established: a later close's lifetime counts from here, as below */
		goto forget;
	}
	struct tcp_event *e = reserve_record(struct tcp_event);
	if (!e)
		goto forget;
	if (o)
		e->h = o->h;
	else
		fill_header(&e->h); /* no filter and no known owner: the current task, as tcpstates reports */
	e->h.ts_ns = now;
	e->skaddr = sk;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->family = ctx->family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	if (ctx->family == 10) {
		__builtin_memcpy(e->saddr, ctx->saddr_v6, 16);
		__builtin_memcpy(e->daddr, ctx->daddr_v6, 16);
	} else {
		__builtin_memcpy(e->saddr, ctx->saddr, 4);
		__builtin_memcpy(e->daddr, ctx->daddr, 4);
	}
	if (oldstate == TCP_SYN_SENT) {
		e->kind = TCP_KIND_CONNECT;
		if (newstate != TCP_ESTABLISHED) {
			int err = BPF_CORE_READ((struct sock *)sk, sk_err);
			e->result = err > 0 ? -err : -1;
		}
		e->latency_ns = o ? now - o->since : 0;
		if (o && newstate == TCP_ESTABLISHED)
			o->since = now;
	} else if (newstate == TCP_LISTEN) {
		e->kind = TCP_KIND_LISTEN;
	} else if (newstate == TCP_CLOSE) {
		e->kind = TCP_KIND_CLOSE;
		e->latency_ns = o ? now - o->since : 0;
	} else {
		e->kind = TCP_KIND_STATE;
	}
	bpf_ringbuf_submit(e, 0);
forget:
	if (newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&owners, &sk);
		if (oldstate == TCP_LISTEN)
			bpf_map_delete_elem(&listeners, &sport);
	}
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit(struct retransmit_ctx *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	struct owner *o = bpf_map_lookup_elem(&owners, &sk);
	if (!o && any_filter())
		return 0;
	struct tcp_event *e = reserve_record(struct tcp_event);
	if (!e)
		return 0;
	if (o)
		e->h = o->h;
	e->h.ts_ns = bpf_ktime_get_ns();
	e->kind = TCP_KIND_RETRANSMIT;
	e->skaddr = sk;
	e->oldstate = ctx->state;
	e->newstate = ctx->state;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	copy_sock_addrs(e, (struct sock *)sk);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* accept()/accept4() return a new fd: find its socket through current->files and own it */
static __always_inline int on_accept_exit(long fd)
{
	if (fd < 0 || !current_allowed())
		return 0;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	if (!f)
		return 0;
	struct socket *so = BPF_CORE_READ(f, private_data);
	struct sock *s = BPF_CORE_READ(so, sk);
	if (!s)
		return 0;
	__u64 sk = (__u64)s, now = bpf_ktime_get_ns();
	set_owner(sk, now);
	if (errors_only)
		return 0;
	struct tcp_event *e = reserve_record(struct tcp_event);
	if (!e)
		return 0;
	fill_header(&e->h);
	e->kind = TCP_KIND_ACCEPT;
	e->skaddr = sk;
	e->oldstate = TCP_ESTABLISHED;
	e->newstate = TCP_ESTABLISHED;
	e->sport = BPF_CORE_READ(s, __sk_common.skc_num);
	e->dport = __builtin_bswap16(BPF_CORE_READ(s, __sk_common.skc_dport));
	copy_sock_addrs(e, s);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#define NR_ACCEPT SYS_NR(43, 202)
#define NR_ACCEPT4 SYS_NR(288, 242)

/* a raw tracepoint, not syscalls:sys_exit_accept4/accept: gadget.h says why (detach without waiting) */
SEC("raw_tracepoint/sys_exit")
int accept_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long id = syscall_nr((const void *)ctx->args[0]);
	if ((id != NR_ACCEPT && id != NR_ACCEPT4) || !syscall_is_native())
		return 0;
	return on_accept_exit((long)ctx->args[1]);
}
