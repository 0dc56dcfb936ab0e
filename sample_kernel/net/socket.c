// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: the second static init_once() (see fs/inode.c), and a
 * variable that shares its name with the function kern_path() in fs/open.c.
 */
struct kmem_cache;

struct socket_alloc {
	unsigned long state;
	void *wq;
};

extern struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
					    void (*ctor)(void *));

static struct kmem_cache *sock_inode_cachep;

/* kallsyms lists this data symbol too when CONFIG_KALLSYMS_ALL=y */
static char kern_path[8] = "sockfs";

static void init_once(void *foo)
{
	struct socket_alloc *ei = foo;

	ei->state = 0;
	ei->wq = kern_path;
}

int sock_sample_init(void)
{
	sock_inode_cachep = kmem_cache_create("sock_inode_cache",
					      sizeof(struct socket_alloc), init_once);
	return sock_inode_cachep ? 0 : -12;
}
