// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: one of two files with a static init_once() callback
 * (the other is net/socket.c), so kallsyms holds the name twice.
 */
struct kmem_cache;

struct inode {
	unsigned long i_state;
	unsigned int i_count;
};

extern struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
					    void (*ctor)(void *));

static struct kmem_cache *inode_cachep;

static void init_once(void *foo)
{
	struct inode *inode = foo;

	inode->i_state = 0;
	inode->i_count = 0;
}

void inode_init(void)
{
	inode_cachep = kmem_cache_create("inode_cache", sizeof(struct inode),
					 init_once);
}
