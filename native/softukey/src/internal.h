/* internal.h - SoftUKey internal interfaces (not installed) */
#ifndef SUK_INTERNAL_H
#define SUK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "pkcs11.h"
#include "softukey.h"

#define SUK_TK_LEN      32
#define SUK_SALT_LEN    16
#define SUK_GCM_IV      12
#define SUK_GCM_TAG     16
#define SUK_WRAP_LEN    (SUK_GCM_IV + SUK_TK_LEN + SUK_GCM_TAG)   /* 60 */
#define SUK_D_LEN       32
#define SUK_PRIV_BLOB   (SUK_GCM_IV + SUK_D_LEN + SUK_GCM_TAG)    /* 60 */
#define SUK_POINT_LEN   65
#define SUK_SERIAL_MAX  16
#define SUK_MODEL_MAX   16
#define SUK_LABEL_MAX   32
#define SUK_INST_LEN    16   /* hex chars */
#define SUK_MIN_PIN     4
#define SUK_MAX_PIN     32
#define SUK_DEFAULT_USER_TRIES 6
#define SUK_DEFAULT_SO_TRIES   10
#define SUK_DEFAULT_KDF_ITER   100000

/* Internal attribute (never exposed): wrapped private scalar d */
#define SUK_ATTR_WRAPPED_D  (CKA_VENDOR_DEFINED | 0x53550001UL)

/* ---- objects ---- */
typedef struct {
    CK_ATTRIBUTE_TYPE type;
    CK_ULONG len;
    unsigned char *val;
} suk_attr;

typedef struct {
    unsigned long uid;
    size_t n;
    suk_attr *a;
} suk_obj;

/* ---- token file ---- */
typedef struct {
    int blank;
    char serial[SUK_SERIAL_MAX + 1];
    char model[SUK_MODEL_MAX + 1];
    unsigned char label[SUK_LABEL_MAX];
    size_t label_len;
    char instance[SUK_INST_LEN + 1];
    unsigned kdf_iter;
    unsigned user_max, user_left, so_max, so_left;
    int has_user;
    unsigned char user_salt[SUK_SALT_LEN], user_wrap[SUK_WRAP_LEN];
    unsigned char so_salt[SUK_SALT_LEN], so_wrap[SUK_WRAP_LEN];
    unsigned long next_uid;
    size_t nobjs;
    suk_obj *objs;
} suk_token;

/* store.c */
int  suk_token_parse(const char *buf, size_t len, suk_token *t); /* 0 ok, -1 corrupt */
int  suk_peek_serial(const char *buf, size_t len, char *serial /*17*/);
char *suk_token_serialize(const suk_token *t, size_t *outlen);
void suk_token_free(suk_token *t);
int  suk_read_file(const char *path, char **buf, size_t *len, struct stat *st);
int  suk_read_fd(int fd, char **buf, size_t *len);
int  suk_write_atomic(const char *path, const char *buf, size_t len, struct stat *st_out);
int  suk_lock_open(const char *path, int *fd_out); /* flock LOCK_EX, verified inode */

/* objects helpers (store.c) */
suk_attr *suk_obj_get(const suk_obj *o, CK_ATTRIBUTE_TYPE t);
int  suk_obj_set(suk_obj *o, CK_ATTRIBUTE_TYPE t, const void *v, CK_ULONG len);
int  suk_obj_set_bool(suk_obj *o, CK_ATTRIBUTE_TYPE t, CK_BBOOL b);
int  suk_obj_set_ulong(suk_obj *o, CK_ATTRIBUTE_TYPE t, CK_ULONG v);
void suk_obj_del(suk_obj *o, CK_ATTRIBUTE_TYPE t);
int  suk_obj_bool(const suk_obj *o, CK_ATTRIBUTE_TYPE t, int dflt);
int  suk_obj_ulong(const suk_obj *o, CK_ATTRIBUTE_TYPE t, CK_ULONG *v);
void suk_obj_clear(suk_obj *o);
int  suk_obj_copy(suk_obj *dst, const suk_obj *src);
size_t suk_obj_size(const suk_obj *o);

/* crypto.c */
int  suk_crypto_init(void);
void suk_crypto_cleanup(void);
int  suk_rand(unsigned char *buf, size_t len);
int  suk_kdf(const unsigned char *pin, size_t pinlen, const unsigned char *salt,
             unsigned iter, unsigned char key[32]);
int  suk_gcm_seal(const unsigned char key[32], const unsigned char *aad, size_t aadlen,
                  const unsigned char *pt, size_t ptlen, unsigned char *out /* iv|ct|tag */);
int  suk_gcm_open(const unsigned char key[32], const unsigned char *aad, size_t aadlen,
                  const unsigned char *in, size_t inlen, unsigned char *pt);
int  suk_sm3(const unsigned char *m, size_t len, unsigned char out[32]);
int  suk_sm2_keygen(unsigned char d[32], unsigned char pub[65]);
int  suk_sm2_pub_from_d(const unsigned char d[32], unsigned char pub[65]); /* -1 if d out of range */
int  suk_sm2_check_point(const unsigned char pub[65]);
int  suk_sm2_z(const unsigned char *id, size_t idlen, const unsigned char pub[65], unsigned char z[32]);
int  suk_sm2_sign_e(const unsigned char d[32], const unsigned char pub[65],
                    const unsigned char e[32], const unsigned char *fixed_k /* NULL or 32 */,
                    unsigned char rs[64]);
int  suk_sm2_verify_e(const unsigned char pub[65], const unsigned char e[32], const unsigned char rs[64]);
/* DER <-> raw; der buffer >= 72 */
int  suk_rs_to_der(const unsigned char rs[64], unsigned char *der, size_t *derlen);
int  suk_der_to_rs(const unsigned char *der, size_t derlen, unsigned char rs[64]); /* strict DER */
void suk_cleanse(void *p, size_t len);

#endif
