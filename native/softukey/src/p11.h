/* p11.h - SoftUKey module-internal state */
#ifndef SUK_P11_H
#define SUK_P11_H

#include <pthread.h>
#include <limits.h>
#include <sys/stat.h>
#include "internal.h"

typedef struct evp_md_ctx_st SUK_MD_CTX;

typedef struct {
    CK_SLOT_ID id;
    char serial[SUK_SERIAL_MAX + 1];
    char path[PATH_MAX];
    int present, reported, corrupt;
    suk_token *tok;                 /* parsed cache (NULL when absent/corrupt) */
    struct stat st;                 /* identity of the cached file version */
    char cur_instance[SUK_INST_LEN + 1];
    int logged_in;
    CK_USER_TYPE login;
    unsigned char tk[SUK_TK_LEN];   /* token key while logged in */
    suk_obj hwf;                    /* PIN counter object, rebuilt on every resolve */
} slot_t;

/* reserved uid of the virtual PIN counter object (never a real token object) */
#define SUK_HWF_UID ((unsigned long)-1)

typedef struct {
    int active;
    CK_MECHANISM_TYPE mech;
    int is_msg;                      /* SM3(Z||M) mechanisms */
    int updated;                     /* multi-part used */
    SUK_MD_CTX *md;
    unsigned char buf[32];           /* accumulated e for CKM_SM2/_DER */
    size_t buflen;
    int overflow;
    unsigned char pub[SUK_POINT_LEN];
    unsigned char wrapped[SUK_PRIV_BLOB];
    char aad[96];
    int have_sig;
    unsigned char sig[72];
    size_t siglen;
} sigop_t;

typedef struct {
    CK_SESSION_HANDLE h;
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    int find_active;
    CK_OBJECT_HANDLE *found;
    size_t nfound, findpos;
    sigop_t sign, verify;
    int dig_active, dig_updated;
    SUK_MD_CTX *dig;
} session_t;

typedef struct {
    CK_SLOT_ID slot;
    char instance[SUK_INST_LEN + 1];
    unsigned long uid;
    suk_obj *sobj;                   /* session object (owned) or NULL for token object */
    CK_SESSION_HANDLE owner;
    int dead;
} href_t;

typedef struct {
    char dir[PATH_MAX];
    unsigned sign_delay_ms;
    unsigned max_tries;   /* 0 = default */
    unsigned kdf_iter;    /* 0 = default */
    int have_test_k;
    unsigned char test_k[32];
} suk_config;

extern pthread_mutex_t g_mtx;
extern int g_init;
extern unsigned long g_gen;
extern suk_config g_cfg;
extern unsigned long g_next_suid;

typedef CK_RV (*mutate_fn)(slot_t *sl, suk_token *t, void *ctx, int *dirty);

size_t slot_count(void);
slot_t *slot_at(size_t i);
slot_t *slot_find(CK_SLOT_ID id);
void slots_scan(void);
void slots_mark_reported(void);
CK_RV slot_check(slot_t *sl);
void slot_logout(slot_t *sl);
void slot_close_all(slot_t *sl);
size_t session_count(CK_SLOT_ID id, size_t *rw);
session_t *session_find(CK_SESSION_HANDLE h);
CK_RV session_get(CK_SESSION_HANDLE h, session_t **ps, slot_t **psl);
CK_RV session_new(slot_t *sl, CK_FLAGS flags, CK_SESSION_HANDLE *ph);
void session_close(CK_SESSION_HANDLE h);
void session_ops_clear(session_t *s);
void op_clear(sigop_t *op);
CK_OBJECT_HANDLE href_token(slot_t *sl, unsigned long uid);
CK_OBJECT_HANDLE href_session(slot_t *sl, CK_SESSION_HANDLE owner, suk_obj *o);
href_t *href_get(CK_OBJECT_HANDLE h);
size_t href_count(void);
href_t *href_at(size_t i);
suk_obj *token_obj_by_uid(slot_t *sl, unsigned long uid);
int obj_visible(slot_t *sl, const suk_obj *o);
int hwf_build(slot_t *sl);
int href_is_hwf(const href_t *r);
CK_RV obj_resolve(session_t *s, slot_t *sl, CK_OBJECT_HANDLE h, suk_obj **po, href_t **pr);
CK_RV token_mutate(slot_t *sl, const char *expect_instance, mutate_fn fn, void *ctx);
void state_free_all(void);

#endif
