/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pieces several gadgets repeat, written once: the user/kernel stack map, zeroed ring buffer
 * records (lost ones counted), get-or-create of a map value, and the count/total/max (+ log2
 * histogram) bookkeeping of a latency. Include after filter.h (needs `lost` and count_lost);
 * reserve_record also needs DECLARE_EVENTS before its first use.
 */
#ifndef KSCOPE_COMMON_H
#define KSCOPE_COMMON_H

#include "filter.h"

/* map `stacks`: kernel and user stacks by id (bpf_get_stackid), read by kscope as STACK_DEPTH ips */
#define DECLARE_STACKS()                                           \
	struct {                                                       \
		__uint(type, BPF_MAP_TYPE_STACK_TRACE);                    \
		__uint(max_entries, MAX_ENTRIES);                          \
		__uint(key_size, sizeof(__u32));                           \
		__uint(value_size, STACK_DEPTH * sizeof(__u64));           \
	} stacks SEC(".maps")

/* a zeroed record of type `type` reserved in ring buffer `events`; NULL (and counted as lost) when full */
#define reserve_record(type)                                                   \
	({                                                                         \
		type *__rec = bpf_ringbuf_reserve(&events, sizeof(type), 0);           \
		if (__rec)                                                             \
			__builtin_memset(__rec, 0, sizeof(type));                          \
		else                                                                   \
			count_lost();                                                      \
		__rec;                                                                 \
	})

/* the value of `key` in a hash map, created from `init` when absent; NULL only when the map is full */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init)
{
	void *value = bpf_map_lookup_elem(map, key);
	if (value)
		return value;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* count, total_ns and max_ns of a value that sums latencies (max is racy across CPUs: a lower bound) */
#define account_latency(v, delta)                                  \
	do {                                                           \
		__sync_fetch_and_add(&(v)->count, 1);                      \
		__sync_fetch_and_add(&(v)->total_ns, (delta));             \
		if ((delta) > (v)->max_ns)                                 \
			(v)->max_ns = (delta);                                 \
	} while (0)

/* account_latency, plus the log2 histogram `slots` */
#define account_latency_hist(v, delta)                             \
	do {                                                           \
		account_latency(v, delta);                                 \
		__sync_fetch_and_add(&(v)->slots[log2_slot(delta)], 1);    \
	} while (0)

#endif
