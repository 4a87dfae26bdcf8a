/*
 * p11_obj.c - object management: create/import, attributes, find, destroy.
 * SoftUKey: an SM2 software UKey - DEVELOPMENT / TEST token only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "p11.h"
#include "p11_fn.h"
#include "p11_obj.h"

static const unsigned char SM2_OID[] = {0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D};
static const unsigned char SPKI_PREFIX[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
    0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D, 0x03, 0x42, 0x00};

enum { K_BYTES, K_BOOL, K_ULONG, K_DATE };
#define C_CERT 1
#define C_PUB  2
#define C_PRIV 4
#define C_KEY  (C_PUB | C_PRIV)
#define C_ALL  7
#define C_RO   8

static const struct {
    CK_ATTRIBUTE_TYPE t;
    int kind;
    int classes;
} attr_tab[] = {
    {CKA_CLASS, K_ULONG, C_ALL},
    {CKA_TOKEN, K_BOOL, C_ALL},
    {CKA_PRIVATE, K_BOOL, C_ALL},
    {CKA_MODIFIABLE, K_BOOL, C_ALL},
    {CKA_LABEL, K_BYTES, C_ALL},
    {CKA_COPYABLE, K_BOOL, C_ALL},
    {CKA_DESTROYABLE, K_BOOL, C_ALL},
    {CKA_CERTIFICATE_TYPE, K_ULONG, C_CERT},
    {CKA_TRUSTED, K_BOOL, C_CERT | C_PUB},
    {CKA_CERTIFICATE_CATEGORY, K_ULONG, C_CERT},
    {CKA_START_DATE, K_DATE, C_ALL},
    {CKA_END_DATE, K_DATE, C_ALL},
    {CKA_SUBJECT, K_BYTES, C_ALL},
    {CKA_ID, K_BYTES, C_ALL},
    {CKA_ISSUER, K_BYTES, C_CERT},
    {CKA_SERIAL_NUMBER, K_BYTES, C_CERT},
    {CKA_VALUE, K_BYTES, C_CERT | C_PRIV},
    {CKA_URL, K_BYTES, C_CERT},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, K_BYTES, C_CERT},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, K_BYTES, C_CERT},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, K_ULONG, C_CERT},
    {CKA_PUBLIC_KEY_INFO, K_BYTES, C_ALL}, /* accepted, recomputed */
    {CKA_KEY_TYPE, K_ULONG, C_KEY},
    {CKA_DERIVE, K_BOOL, C_KEY},
    {CKA_LOCAL, K_BOOL, C_RO},
    {CKA_KEY_GEN_MECHANISM, K_ULONG, C_RO},
    {CKA_ENCRYPT, K_BOOL, C_PUB},
    {CKA_VERIFY, K_BOOL, C_PUB},
    {CKA_VERIFY_RECOVER, K_BOOL, C_PUB},
    {CKA_WRAP, K_BOOL, C_PUB},
    {CKA_EC_PARAMS, K_BYTES, C_KEY},
    {CKA_EC_POINT, K_BYTES, C_KEY}, /* public: required on import; private: recomputed */
    {CKA_SENSITIVE, K_BOOL, C_PRIV},
    {CKA_DECRYPT, K_BOOL, C_PRIV},
    {CKA_SIGN, K_BOOL, C_PRIV},
    {CKA_SIGN_RECOVER, K_BOOL, C_PRIV},
    {CKA_UNWRAP, K_BOOL, C_PRIV},
    {CKA_EXTRACTABLE, K_BOOL, C_PRIV},
    {CKA_ALWAYS_SENSITIVE, K_BOOL, C_RO},
    {CKA_NEVER_EXTRACTABLE, K_BOOL, C_RO},
    {CKA_WRAP_WITH_TRUSTED, K_BOOL, C_PRIV},
    {CKA_ALWAYS_AUTHENTICATE, K_BOOL, C_PRIV},
};
#define NATTR (sizeof(attr_tab) / sizeof(attr_tab[0]))

static int class_bit(CK_OBJECT_CLASS c)
{
    switch (c) {
    case CKO_CERTIFICATE: return C_CERT;
    case CKO_PUBLIC_KEY: return C_PUB;
    case CKO_PRIVATE_KEY: return C_PRIV;
    default: return 0;
    }
}

static const CK_ATTRIBUTE *tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG i;
    const CK_ATTRIBUTE *r = NULL;
    for (i = 0; i < n; i++)
        if (t[i].type == type)
            r = &t[i];
    return r;
}

static int tmpl_ulong(const CK_ATTRIBUTE *a, CK_ULONG *v)
{
    if (!a || !a->pValue || a->ulValueLen != sizeof(CK_ULONG))
        return -1;
    memcpy(v, a->pValue, sizeof(CK_ULONG));
    return 0;
}

/* DER OCTET STRING (short/long form) wrapping a 65-byte uncompressed point, or the raw point */
static int parse_ec_point(const unsigned char *v, CK_ULONG len, unsigned char pub[65])
{
    if (len == 67 && v[0] == 0x04 && v[1] == 0x41) {
        memcpy(pub, v + 2, 65);
    } else if (len == 68 && v[0] == 0x04 && v[1] == 0x81 && v[2] == 0x41) {
        memcpy(pub, v + 3, 65);
    } else if (len == 65) {
        memcpy(pub, v, 65);
    } else {
        return -1;
    }
    return suk_sm2_check_point(pub);
}

int obj_pub_point(const suk_obj *o, unsigned char pub[65])
{
    suk_attr *a = suk_obj_get(o, CKA_EC_POINT);
    if (!a || a->len != 67)
        return -1;
    memcpy(pub, a->val + 2, 65);
    return 0;
}

int obj_set_point(suk_obj *o, const unsigned char pub[65])
{
    unsigned char der[67], spki[sizeof(SPKI_PREFIX) + 65];
    der[0] = 0x04;
    der[1] = 0x41;
    memcpy(der + 2, pub, 65);
    memcpy(spki, SPKI_PREFIX, sizeof(SPKI_PREFIX));
    memcpy(spki + sizeof(SPKI_PREFIX), pub, 65);
    if (suk_obj_set(o, CKA_EC_POINT, der, sizeof(der)) || suk_obj_set(o, CKA_PUBLIC_KEY_INFO, spki, sizeof(spki)))
        return -1;
    return 0;
}

static CK_RV cert_fill(suk_obj *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    suk_attr *v = suk_obj_get(o, CKA_VALUE);
    const unsigned char *p;
    unsigned char *der = NULL;
    X509 *x;
    int l;
    CK_RV rv = CKR_HOST_MEMORY;
    if (!v || v->len == 0)
        return CKR_TEMPLATE_INCOMPLETE;
    p = v->val;
    x = d2i_X509(NULL, &p, (long)v->len);
    if (!x || p != v->val + v->len) {
        X509_free(x);
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
#define FILL(attr, expr)                                                     \
    do {                                                                     \
        if (!tmpl_find(t, n, attr)) {                                        \
            der = NULL;                                                      \
            l = (expr);                                                      \
            if (l < 0)                                                       \
                goto end;                                                    \
            if (suk_obj_set(o, attr, der, (CK_ULONG)l)) {                    \
                OPENSSL_free(der);                                           \
                goto end;                                                    \
            }                                                                \
            OPENSSL_free(der);                                               \
        }                                                                    \
    } while (0)
    FILL(CKA_SUBJECT, i2d_X509_NAME(X509_get_subject_name(x), &der));
    FILL(CKA_ISSUER, i2d_X509_NAME(X509_get_issuer_name(x), &der));
    FILL(CKA_SERIAL_NUMBER, i2d_ASN1_INTEGER(X509_get_serialNumber(x), &der));
#undef FILL
    der = NULL;
    l = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (l < 0)
        goto end;
    if (suk_obj_set(o, CKA_PUBLIC_KEY_INFO, der, (CK_ULONG)l)) {
        OPENSSL_free(der);
        goto end;
    }
    OPENSSL_free(der);
    rv = CKR_OK;
end:
    X509_free(x);
    return rv;
}

/*
 * Build an object from a template.
 * forced_class: (CK_OBJECT_CLASS)-1 for C_CreateObject, else the class for key generation.
 * For private keys on import, the scalar d is returned in d[] (*have_d = 1).
 */
CK_RV obj_build(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS forced_class, int generated,
                suk_obj *o, unsigned char d[32], int *have_d)
{
    CK_OBJECT_CLASS cls;
    CK_ULONG i, kt;
    int cb;
    const CK_ATTRIBUTE *a;
    CK_RV rv = CKR_HOST_MEMORY;
    const CK_BBOOL T = CK_TRUE, F = CK_FALSE;

    memset(o, 0, sizeof(*o));
    *have_d = 0;
    if (n && !t)
        return CKR_ARGUMENTS_BAD;
    /* validate every attribute */
    a = tmpl_find(t, n, CKA_CLASS);
    if (a) {
        if (tmpl_ulong(a, &cls))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if (forced_class != (CK_OBJECT_CLASS)-1 && cls != forced_class)
            return CKR_TEMPLATE_INCONSISTENT;
    } else if (forced_class != (CK_OBJECT_CLASS)-1) {
        cls = forced_class;
    } else {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    cb = class_bit(cls);
    if (!cb)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    for (i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < NATTR; j++)
            if (attr_tab[j].t == t[i].type)
                break;
        if (j == NATTR)
            return CKR_ATTRIBUTE_TYPE_INVALID;
        if (attr_tab[j].classes & C_RO)
            return CKR_ATTRIBUTE_READ_ONLY;
        if (!(attr_tab[j].classes & cb))
            return CKR_ATTRIBUTE_TYPE_INVALID;
        if (!t[i].pValue && t[i].ulValueLen)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        switch (attr_tab[j].kind) {
        case K_BOOL:
            if (t[i].ulValueLen != sizeof(CK_BBOOL) || *(CK_BBOOL *)t[i].pValue > 1)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case K_ULONG:
            if (t[i].ulValueLen != sizeof(CK_ULONG))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case K_DATE:
            if (t[i].ulValueLen != 0 && t[i].ulValueLen != sizeof(CK_DATE))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        default:
            break;
        }
        if (generated && (t[i].type == CKA_VALUE || t[i].type == CKA_EC_POINT))
            return CKR_TEMPLATE_INCONSISTENT;
    }

    /* defaults */
    o->uid = 0;
    if (suk_obj_set_ulong(o, CKA_CLASS, cls) || suk_obj_set_bool(o, CKA_TOKEN, F) ||
        suk_obj_set_bool(o, CKA_PRIVATE, cls == CKO_PRIVATE_KEY ? T : F) ||
        suk_obj_set_bool(o, CKA_MODIFIABLE, T) || suk_obj_set(o, CKA_LABEL, "", 0) ||
        suk_obj_set_bool(o, CKA_COPYABLE, T) || suk_obj_set_bool(o, CKA_DESTROYABLE, T) ||
        suk_obj_set(o, CKA_ID, "", 0) || suk_obj_set(o, CKA_SUBJECT, "", 0) ||
        suk_obj_set(o, CKA_START_DATE, "", 0) || suk_obj_set(o, CKA_END_DATE, "", 0))
        goto fail;
    if (cls == CKO_CERTIFICATE) {
        if (suk_obj_set_bool(o, CKA_TRUSTED, F) || suk_obj_set_ulong(o, CKA_CERTIFICATE_CATEGORY, 0) ||
            suk_obj_set(o, CKA_ISSUER, "", 0) || suk_obj_set(o, CKA_SERIAL_NUMBER, "", 0) ||
            suk_obj_set(o, CKA_URL, "", 0) || suk_obj_set(o, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, "", 0) ||
            suk_obj_set(o, CKA_HASH_OF_ISSUER_PUBLIC_KEY, "", 0) ||
            suk_obj_set_ulong(o, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0))
            goto fail;
    } else {
        if (suk_obj_set_ulong(o, CKA_KEY_TYPE, CKK_SM2) || suk_obj_set_bool(o, CKA_DERIVE, F) ||
            suk_obj_set_bool(o, CKA_LOCAL, generated ? T : F) ||
            suk_obj_set_ulong(o, CKA_KEY_GEN_MECHANISM, generated ? CKM_SM2_KEY_PAIR_GEN : CK_UNAVAILABLE_INFORMATION) ||
            suk_obj_set(o, CKA_EC_PARAMS, SM2_OID, sizeof(SM2_OID)))
            goto fail;
        if (cls == CKO_PUBLIC_KEY) {
            if (suk_obj_set_bool(o, CKA_ENCRYPT, F) || suk_obj_set_bool(o, CKA_VERIFY, T) ||
                suk_obj_set_bool(o, CKA_VERIFY_RECOVER, F) || suk_obj_set_bool(o, CKA_WRAP, F) ||
                suk_obj_set_bool(o, CKA_TRUSTED, F))
                goto fail;
        } else {
            if (suk_obj_set_bool(o, CKA_SENSITIVE, T) || suk_obj_set_bool(o, CKA_DECRYPT, F) ||
                suk_obj_set_bool(o, CKA_SIGN, T) || suk_obj_set_bool(o, CKA_SIGN_RECOVER, F) ||
                suk_obj_set_bool(o, CKA_UNWRAP, F) || suk_obj_set_bool(o, CKA_EXTRACTABLE, F) ||
                suk_obj_set_bool(o, CKA_ALWAYS_SENSITIVE, generated ? T : F) ||
                suk_obj_set_bool(o, CKA_NEVER_EXTRACTABLE, generated ? T : F) ||
                suk_obj_set_bool(o, CKA_WRAP_WITH_TRUSTED, F) || suk_obj_set_bool(o, CKA_ALWAYS_AUTHENTICATE, F))
                goto fail;
        }
    }
    /* apply template */
    for (i = 0; i < n; i++) {
        CK_ATTRIBUTE_TYPE ty = t[i].type;
        if (ty == CKA_PUBLIC_KEY_INFO || (cls == CKO_PRIVATE_KEY && (ty == CKA_VALUE || ty == CKA_EC_POINT)) ||
            (cls == CKO_PUBLIC_KEY && ty == CKA_EC_POINT))
            continue; /* handled below */
        if (suk_obj_set(o, ty, t[i].pValue, t[i].ulValueLen))
            goto fail;
    }
    /* class specific */
    if (cls == CKO_CERTIFICATE) {
        CK_ULONG ct;
        a = tmpl_find(t, n, CKA_CERTIFICATE_TYPE);
        if (!a) {
            rv = CKR_TEMPLATE_INCOMPLETE;
            goto fail;
        }
        if (tmpl_ulong(a, &ct) || ct != CKC_X_509) {
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
            goto fail;
        }
        rv = cert_fill(o, t, n);
        if (rv != CKR_OK)
            goto fail;
        return CKR_OK;
    }
    /* keys */
    a = tmpl_find(t, n, CKA_KEY_TYPE);
    if (!a && !generated) {
        rv = CKR_TEMPLATE_INCOMPLETE;
        goto fail;
    }
    if (a) {
        if (tmpl_ulong(a, &kt)) {
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
            goto fail;
        }
        if (kt != CKK_SM2 && kt != CKK_EC) {
            rv = generated ? CKR_TEMPLATE_INCONSISTENT : CKR_ATTRIBUTE_VALUE_INVALID;
            goto fail;
        }
        if (suk_obj_set_ulong(o, CKA_KEY_TYPE, CKK_SM2))
            goto fail;
    }
    a = tmpl_find(t, n, CKA_EC_PARAMS);
    if (a && (a->ulValueLen != sizeof(SM2_OID) || memcmp(a->pValue, SM2_OID, sizeof(SM2_OID)))) {
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
        goto fail;
    }
    if (cls == CKO_PUBLIC_KEY) {
        unsigned char pub[65];
        if (generated)
            return CKR_OK;
        a = tmpl_find(t, n, CKA_EC_POINT);
        if (!a) {
            rv = CKR_TEMPLATE_INCOMPLETE;
            goto fail;
        }
        if (!a->pValue || parse_ec_point(a->pValue, a->ulValueLen, pub)) {
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
            goto fail;
        }
        if (obj_set_point(o, pub))
            goto fail;
        return CKR_OK;
    }
    /* private key */
    if (!suk_obj_bool(o, CKA_SENSITIVE, 1) || suk_obj_bool(o, CKA_EXTRACTABLE, 0) ||
        suk_obj_bool(o, CKA_ALWAYS_AUTHENTICATE, 0)) {
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
        goto fail;
    }
    if (!suk_obj_bool(o, CKA_PRIVATE, 1)) {
        rv = CKR_TEMPLATE_INCONSISTENT;
        goto fail;
    }
    if (!generated) {
        unsigned char pub[65];
        a = tmpl_find(t, n, CKA_VALUE);
        if (!a) {
            rv = CKR_TEMPLATE_INCOMPLETE;
            goto fail;
        }
        if (!a->pValue || a->ulValueLen == 0 || a->ulValueLen > 32) {
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
            goto fail;
        }
        memset(d, 0, 32);
        memcpy(d + 32 - a->ulValueLen, a->pValue, a->ulValueLen);
        if (suk_sm2_pub_from_d(d, pub)) {
            suk_cleanse(d, 32);
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
            goto fail;
        }
        if (obj_set_point(o, pub)) {
            suk_cleanse(d, 32);
            goto fail;
        }
        *have_d = 1;
    }
    return CKR_OK;
fail:
    suk_obj_clear(o);
    return rv;
}

void obj_make_aad(char *out, size_t n, const slot_t *sl, int token, unsigned long uid)
{
    snprintf(out, n, "suk-d|%s|%s|%c%lu", sl->serial, sl->cur_instance, token ? 'T' : 'S', uid);
}

static int wrap_d(const slot_t *sl, suk_obj *o, int token, const unsigned char d[32])
{
    char aad[96];
    unsigned char blob[SUK_PRIV_BLOB];
    obj_make_aad(aad, sizeof(aad), sl, token, o->uid);
    if (suk_gcm_seal(sl->tk, (const unsigned char *)aad, strlen(aad), d, 32, blob))
        return -1;
    return suk_obj_set(o, SUK_ATTR_WRAPPED_D, blob, sizeof(blob));
}

typedef struct {
    size_t n;
    suk_obj **objs;
    const unsigned char **ds;
    int *is_token;
} add_ctx;

static CK_RV cb_add(slot_t *sl, suk_token *t, void *vctx, int *dirty)
{
    add_ctx *c = vctx;
    size_t i, k = 0, nt = 0;
    suk_obj *no;
    for (i = 0; i < c->n; i++)
        nt += c->is_token[i] ? 1 : 0;
    no = realloc(t->objs, (t->nobjs + nt) * sizeof(*no));
    if (!no)
        return CKR_HOST_MEMORY;
    t->objs = no;
    for (i = 0; i < c->n; i++) {
        suk_obj tmp;
        if (!c->is_token[i])
            continue;
        c->objs[i]->uid = t->next_uid++;
        if (c->ds[i] && wrap_d(sl, c->objs[i], 1, c->ds[i]))
            return CKR_FUNCTION_FAILED;
        if (suk_obj_copy(&tmp, c->objs[i]))
            return CKR_HOST_MEMORY;
        t->objs[t->nobjs + k++] = tmp;
    }
    t->nobjs += k;
    *dirty = 1;
    return CKR_OK;
}

/* store built objects (token or session); on success objs are consumed */
CK_RV obj_store(session_t *s, slot_t *sl, suk_obj **objs, const unsigned char **ds, size_t n,
                CK_OBJECT_HANDLE *handles)
{
    int is_token[4];
    size_t i, nt = 0;
    CK_RV rv;
    add_ctx c;
    if (n > 4)
        return CKR_GENERAL_ERROR;
    for (i = 0; i < n; i++) {
        is_token[i] = suk_obj_bool(objs[i], CKA_TOKEN, 0);
        nt += is_token[i];
        if (suk_obj_bool(objs[i], CKA_PRIVATE, 0) && !(sl->logged_in && sl->login == CKU_USER))
            return CKR_USER_NOT_LOGGED_IN;
        if (ds[i] && !(sl->logged_in && sl->login == CKU_USER))
            return CKR_USER_NOT_LOGGED_IN;
    }
    if (nt && !(s->flags & CKF_RW_SESSION))
        return CKR_SESSION_READ_ONLY;
    if (nt) {
        c.n = n;
        c.objs = objs;
        c.ds = ds;
        c.is_token = is_token;
        rv = token_mutate(sl, sl->cur_instance, cb_add, &c);
        if (rv != CKR_OK)
            return rv;
    }
    for (i = 0; i < n; i++) {
        if (is_token[i]) {
            handles[i] = href_token(sl, objs[i]->uid);
            suk_obj_clear(objs[i]);
        } else {
            suk_obj *so = malloc(sizeof(*so));
            if (!so)
                return CKR_HOST_MEMORY;
            objs[i]->uid = g_next_suid++;
            if (ds[i] && wrap_d(sl, objs[i], 0, ds[i])) {
                free(so);
                return CKR_FUNCTION_FAILED;
            }
            *so = *objs[i];
            memset(objs[i], 0, sizeof(*objs[i]));
            handles[i] = href_session(sl, s->h, so);
            if (handles[i] == CK_INVALID_HANDLE) {
                suk_obj_clear(so);
                free(so);
                return CKR_HOST_MEMORY;
            }
        }
        if (handles[i] == CK_INVALID_HANDLE)
            return CKR_HOST_MEMORY;
    }
    return CKR_OK;
}

/* ================================================================== */

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    session_t *s;
    slot_t *sl;
    suk_obj o, *op = &o;
    unsigned char d[32];
    const unsigned char *dp;
    int have_d = 0;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if ((!pTemplate && ulCount) || !phObject)
        RETURN(CKR_ARGUMENTS_BAD);
    rv = obj_build(pTemplate, ulCount, (CK_OBJECT_CLASS)-1, 0, &o, d, &have_d);
    if (rv != CKR_OK)
        RETURN(rv);
    dp = have_d ? d : NULL;
    rv = obj_store(s, sl, &op, &dp, 1, phObject);
    suk_cleanse(d, sizeof(d));
    suk_obj_clear(&o);
    RETURN(rv);
}

CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
    (void)hSession; (void)hObject; (void)pTemplate; (void)ulCount; (void)phNewObject;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

typedef struct {
    unsigned long uid;
    const CK_ATTRIBUTE *t;
    CK_ULONG n;
} mod_ctx;

static CK_RV cb_destroy(slot_t *sl, suk_token *t, void *vctx, int *dirty)
{
    mod_ctx *c = vctx;
    size_t i;
    (void)sl;
    for (i = 0; i < t->nobjs; i++)
        if (t->objs[i].uid == c->uid) {
            suk_obj_clear(&t->objs[i]);
            memmove(&t->objs[i], &t->objs[i + 1], (t->nobjs - i - 1) * sizeof(suk_obj));
            t->nobjs--;
            *dirty = 1;
            return CKR_OK;
        }
    return CKR_OBJECT_HANDLE_INVALID;
}

static CK_RV cb_setattr(slot_t *sl, suk_token *t, void *vctx, int *dirty)
{
    mod_ctx *c = vctx;
    size_t i;
    CK_ULONG k;
    (void)sl;
    for (i = 0; i < t->nobjs; i++)
        if (t->objs[i].uid == c->uid) {
            for (k = 0; k < c->n; k++)
                if (suk_obj_set(&t->objs[i], c->t[k].type, c->t[k].pValue, c->t[k].ulValueLen))
                    return CKR_HOST_MEMORY;
            *dirty = 1;
            return CKR_OK;
        }
    return CKR_OBJECT_HANDLE_INVALID;
}

static CK_RV resolve_visible(session_t *s, slot_t *sl, CK_OBJECT_HANDLE h, suk_obj **po, href_t **pr)
{
    CK_RV rv = obj_resolve(s, sl, h, po, pr);
    if (rv != CKR_OK)
        return rv;
    if (!obj_visible(sl, *po))
        return CKR_OBJECT_HANDLE_INVALID;
    return CKR_OK;
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    session_t *s;
    slot_t *sl;
    suk_obj *o;
    href_t *r;
    mod_ctx c;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    rv = resolve_visible(s, sl, hObject, &o, &r);
    if (rv != CKR_OK)
        RETURN(rv);
    if (href_is_hwf(r))
        RETURN(CKR_ACTION_PROHIBITED);
    if (!r->sobj && !(s->flags & CKF_RW_SESSION))
        RETURN(CKR_SESSION_READ_ONLY);
    if (!suk_obj_bool(o, CKA_DESTROYABLE, 1))
        RETURN(CKR_ACTION_PROHIBITED);
    if (r->sobj) {
        suk_obj_clear(r->sobj);
        free(r->sobj);
        r->sobj = NULL;
        r->dead = 1;
        RETURN(CKR_OK);
    }
    c.uid = r->uid;
    rv = token_mutate(sl, sl->cur_instance, cb_destroy, &c);
    r = href_get(hObject);
    if (rv == CKR_OK && r)
        r->dead = 1;
    RETURN(rv);
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
    session_t *s;
    slot_t *sl;
    suk_obj *o;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pulSize)
        RETURN(CKR_ARGUMENTS_BAD);
    rv = resolve_visible(s, sl, hObject, &o, NULL);
    if (rv != CKR_OK)
        RETURN(rv);
    *pulSize = suk_obj_size(o);
    RETURN(CKR_OK);
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                          CK_ULONG ulCount)
{
    session_t *s;
    slot_t *sl;
    suk_obj *o;
    CK_RV rv, res = CKR_OK;
    CK_ULONG i, cls = 0;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pTemplate && ulCount)
        RETURN(CKR_ARGUMENTS_BAD);
    rv = resolve_visible(s, sl, hObject, &o, NULL);
    if (rv != CKR_OK)
        RETURN(rv);
    suk_obj_ulong(o, CKA_CLASS, &cls);
    for (i = 0; i < ulCount; i++) {
        CK_ATTRIBUTE *ta = &pTemplate[i];
        suk_attr *a;
        if (cls == CKO_PRIVATE_KEY && ta->type == CKA_VALUE) {
            ta->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            if (res == CKR_OK)
                res = CKR_ATTRIBUTE_SENSITIVE;
            continue;
        }
        a = ta->type == SUK_ATTR_WRAPPED_D ? NULL : suk_obj_get(o, ta->type);
        if (!a) {
            ta->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            if (res == CKR_OK)
                res = CKR_ATTRIBUTE_TYPE_INVALID;
            continue;
        }
        if (!ta->pValue) {
            ta->ulValueLen = a->len;
        } else if (ta->ulValueLen >= a->len) {
            if (a->len)
                memcpy(ta->pValue, a->val, a->len);
            ta->ulValueLen = a->len;
        } else {
            ta->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            if (res == CKR_OK)
                res = CKR_BUFFER_TOO_SMALL;
        }
    }
    RETURN(res);
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                          CK_ULONG ulCount)
{
    session_t *s;
    slot_t *sl;
    suk_obj *o;
    href_t *r;
    CK_RV rv;
    CK_ULONG i, cls = 0;
    mod_ctx c;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pTemplate && ulCount)
        RETURN(CKR_ARGUMENTS_BAD);
    rv = resolve_visible(s, sl, hObject, &o, &r);
    if (rv != CKR_OK)
        RETURN(rv);
    if (href_is_hwf(r))
        RETURN(CKR_ACTION_PROHIBITED);
    if (!r->sobj && !(s->flags & CKF_RW_SESSION))
        RETURN(CKR_SESSION_READ_ONLY);
    if (!suk_obj_bool(o, CKA_MODIFIABLE, 1))
        RETURN(CKR_ACTION_PROHIBITED);
    suk_obj_ulong(o, CKA_CLASS, &cls);
    for (i = 0; i < ulCount; i++) {
        CK_ATTRIBUTE_TYPE ty = pTemplate[i].type;
        if (ty == CKA_LABEL || ty == CKA_ID) {
            if (!pTemplate[i].pValue && pTemplate[i].ulValueLen)
                RETURN(CKR_ATTRIBUTE_VALUE_INVALID);
            continue;
        }
        if (ty != SUK_ATTR_WRAPPED_D && (suk_obj_get(o, ty) || (cls == CKO_PRIVATE_KEY && ty == CKA_VALUE)))
            RETURN(CKR_ATTRIBUTE_READ_ONLY);
        RETURN(CKR_ATTRIBUTE_TYPE_INVALID);
    }
    if (r->sobj) {
        for (i = 0; i < ulCount; i++)
            if (suk_obj_set(r->sobj, pTemplate[i].type, pTemplate[i].pValue, pTemplate[i].ulValueLen))
                RETURN(CKR_HOST_MEMORY);
        RETURN(CKR_OK);
    }
    c.uid = r->uid;
    c.t = pTemplate;
    c.n = ulCount;
    RETURN(token_mutate(sl, sl->cur_instance, cb_setattr, &c));
}

/* ---------------- find ---------------- */

static int obj_match(const suk_obj *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_ULONG i;
    for (i = 0; i < n; i++) {
        suk_attr *a;
        if (t[i].type == SUK_ATTR_WRAPPED_D)
            return 0;
        a = suk_obj_get(o, t[i].type);
        if (!a || a->len != t[i].ulValueLen)
            return 0;
        if (a->len && (!t[i].pValue || memcmp(a->val, t[i].pValue, a->len)))
            return 0;
    }
    return 1;
}

static int push_handle(session_t *s, size_t *cap, CK_OBJECT_HANDLE h)
{
    if (s->nfound == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        CK_OBJECT_HANDLE *nf = realloc(s->found, nc * sizeof(*nf));
        if (!nf)
            return -1;
        s->found = nf;
        *cap = nc;
    }
    s->found[s->nfound++] = h;
    return 0;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    size_t i, cap = 0;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (s->find_active)
        RETURN(CKR_OPERATION_ACTIVE);
    if (!pTemplate && ulCount)
        RETURN(CKR_ARGUMENTS_BAD);
    s->found = NULL;
    s->nfound = s->findpos = 0;
    for (i = 0; sl->tok && i < sl->tok->nobjs; i++) {
        const suk_obj *o = &sl->tok->objs[i];
        CK_OBJECT_HANDLE h;
        if (o->uid == SUK_HWF_UID || !obj_visible(sl, o) || !obj_match(o, pTemplate, ulCount))
            continue;
        h = href_token(sl, o->uid);
        if (h == CK_INVALID_HANDLE || push_handle(s, &cap, h)) {
            free(s->found);
            s->found = NULL;
            s->nfound = 0;
            RETURN(CKR_HOST_MEMORY);
        }
    }
    /* the virtual PIN counter object (public, never in the token file) */
    if (hwf_build(sl)) {
        free(s->found);
        s->found = NULL;
        s->nfound = 0;
        RETURN(CKR_HOST_MEMORY);
    }
    if (obj_match(&sl->hwf, pTemplate, ulCount)) {
        CK_OBJECT_HANDLE h = href_token(sl, SUK_HWF_UID);
        if (h == CK_INVALID_HANDLE || push_handle(s, &cap, h)) {
            free(s->found);
            s->found = NULL;
            s->nfound = 0;
            RETURN(CKR_HOST_MEMORY);
        }
    }
    for (i = 0; i < href_count(); i++) {
        href_t *r = href_at(i);
        if (r->dead || !r->sobj || r->slot != sl->id)
            continue;
        if (!obj_visible(sl, r->sobj) || !obj_match(r->sobj, pTemplate, ulCount))
            continue;
        if (push_handle(s, &cap, (CK_OBJECT_HANDLE)(i + 1))) {
            free(s->found);
            s->found = NULL;
            s->nfound = 0;
            RETURN(CKR_HOST_MEMORY);
        }
    }
    s->find_active = 1;
    RETURN(CKR_OK);
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
                    CK_ULONG_PTR pulObjectCount)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    CK_ULONG k = 0;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pulObjectCount || (!phObject && ulMaxObjectCount))
        RETURN(CKR_ARGUMENTS_BAD);
    if (!s->find_active)
        RETURN(CKR_OPERATION_NOT_INITIALIZED);
    while (k < ulMaxObjectCount && s->findpos < s->nfound)
        phObject[k++] = s->found[s->findpos++];
    *pulObjectCount = k;
    RETURN(CKR_OK);
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!s->find_active)
        RETURN(CKR_OPERATION_NOT_INITIALIZED);
    free(s->found);
    s->found = NULL;
    s->nfound = s->findpos = 0;
    s->find_active = 0;
    RETURN(CKR_OK);
}
