/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Requests for a snapshot of a process's mappings, for the stack gadgets (offcpu, futex). User stacks
 * are symbolized when the report is printed, often after the process has exited; kscope reads
 * /proc/PID/maps when a request arrives. One request per address space (mm) and process, sent while
 * the task blocks in the stack being recorded, so a short-lived process (a forked child that did not
 * exec, one that exec'd and loaded its libraries a moment ago) is still there when kscope reads its
 * mappings. In these gadgets ring buffer `events` carries only these records. Include after common.h.
 */
#ifndef KSCOPE_MAPS_REQUESTS_H
#define KSCOPE_MAPS_REQUESTS_H

#include "common.h"

#define BPF_RB_FORCE_WAKEUP (1ULL << 1)

/* record of ring buffer `events` (kscope: MapsRequest) */
struct maps_request {
	__u32 tgid;
	__u32 pad;
	__u64 mm; /* the address space (a kernel pointer, only compared) */
};

KEEP_RECORD(maps_request);

struct maps_seen_key {
	__u64 mm;
	__u32 tgid;
	__u32 pad;
};

/* task_struct's mm, relocated against the kernel's task_struct (CO-RE drops the ___ suffix) */
struct mm_struct;
struct task_struct___mm {
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

DECLARE_EVENTS(64);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct maps_seen_key);
	__type(value, __u8);
} maps_seen SEC(".maps");

/* asks for a snapshot of the current process's mappings, once per (mm, tgid); kernel threads have no mm */
static __always_inline void request_maps(__u32 tgid)
{
	struct task_struct___mm *t = (void *)bpf_get_current_task();
	struct maps_seen_key key = {};
	key.mm = (__u64)BPF_CORE_READ(t, mm);
	key.tgid = tgid;
	if (!key.mm || bpf_map_lookup_elem(&maps_seen, &key))
		return;
	__u8 one = 1;
	bpf_map_update_elem(&maps_seen, &key, &one, BPF_ANY);
	struct maps_request *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		bpf_map_delete_elem(&maps_seen, &key); /* asked again at its next block */
		return;
	}
	r->tgid = tgid;
	r->pad = 0;
	r->mm = key.mm;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP); /* the task is blocked now: wake kscope at once */
}

#endif
