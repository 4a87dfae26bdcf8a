/* p11_fn.h - locking helpers for the API entry points */
#ifndef SUK_P11_FN_H
#define SUK_P11_FN_H
#include <pthread.h>

#define LOCK()   pthread_mutex_lock(&g_mtx)
#define UNLOCK() pthread_mutex_unlock(&g_mtx)
#define ENTER() do { LOCK(); if (!g_init) { UNLOCK(); return CKR_CRYPTOKI_NOT_INITIALIZED; } } while (0)
#define RETURN(x) do { CK_RV _rv = (x); UNLOCK(); return _rv; } while (0)

#endif
