// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: TCP-output-like code written for the analyzer's tests.
 * It shows the ways a name can exist or not: an exported function, a
 * function-like macro, statics with one caller, with their address taken,
 * noinline, and a function under a config option the samples leave off.
 */
#include <net/tcp.h>
#include <linux/export.h>

/* looks like a function, is a macro: there is no symbol */
#define tcp_skb_sample(skb)	((skb)->len != 0)

struct tcp_sample_ops {
	void (*tsq_handler)(struct sock *sk);
};

static unsigned int tcp_sample_retrans;

/* plain static with a single caller: GCC folds it into that caller */
static unsigned int tcp_sample_fragment_len(const struct sk_buff *skb,
					    unsigned int mss)
{
	return skb->len > mss ? mss : skb->len;
}

/* noinline: keeps its symbol even with a single caller */
static noinline int tcp_sample_trim_head(struct sock *sk, struct sk_buff *skb,
					 unsigned int len)
{
	if (len > skb->len)
		return -22;
	skb->len -= len;
	return 0;
}

/* only reached through a function pointer: an out-of-line copy exists */
static void tcp_sample_tsq_handler(struct sock *sk)
{
	tcp_sample_retrans = 0;
}

const struct tcp_sample_ops tcp_sample_ops = {
	.tsq_handler = tcp_sample_tsq_handler,
};

int tcp_retransmit_skb(struct sock *sk, struct sk_buff *skb, int segs)
{
	unsigned int len;

	if (!tcp_skb_sample(skb))
		return -22;
	len = tcp_sample_fragment_len(skb, 1460);
	if (tcp_sample_trim_head(sk, skb, skb->len - len))
		return -12;
	tcp_sample_retrans += tcp_skb_pcount(skb);
	return segs > 0 ? 0 : -22;
}
EXPORT_SYMBOL(tcp_retransmit_skb);

#ifdef CONFIG_SAMPLE_FEATURE
/* compiled only with a sample option that no sample config sets */
void tcp_sample_feature_probe(struct sock *sk)
{
	tcp_sample_retrans++;
}
#endif /* CONFIG_SAMPLE_FEATURE */
