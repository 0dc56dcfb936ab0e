/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _TCP_H
#define _TCP_H

/*
 * kpanalyze sample: a header helper. Kernel "static inline" is a hint plus
 * notrace; in practice these are inlined and have no symbol.
 */
struct sock;

struct sk_buff {
	unsigned int len;
	unsigned short gso_segs;
	struct sk_buff *next;
};

static inline int tcp_skb_pcount(const struct sk_buff *skb)
{
	return skb->gso_segs ? skb->gso_segs : 1;
}

int tcp_retransmit_skb(struct sock *sk, struct sk_buff *skb, int segs);

#endif /* _TCP_H */
