/*
 * p11_crypto.c - SM2 sign/verify, SM3 digest, key generation, random,
 * and the function list.
 * SoftUKey: an SM2 software UKey - DEVELOPMENT / TEST token only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "p11.h"
#include "p11_fn.h"
#include "p11_obj.h"

static int mech_kind(CK_MECHANISM_TYPE m, int *is_msg, int *is_der)
{
    switch (m) {
    case CKM_SM2_SM3: *is_msg = 1; *is_der = 0; return 0;
    case CKM_SM2_SM3_DER: *is_msg = 1; *is_der = 1; return 0;
    case CKM_SM2: *is_msg = 0; *is_der = 0; return 0;
    case CKM_SM2_DER: *is_msg = 0; *is_der = 1; return 0;
    default: return -1;
    }
}

static int user_in(const slot_t *sl)
{
    return sl->logged_in && sl->login == CKU_USER;
}

static CK_RV sigop_init(session_t *s, slot_t *sl, sigop_t *op, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hKey,
                        int sign)
{
    int is_msg, is_der;
    suk_obj *o;
    href_t *r;
    CK_ULONG cls = 0, kt = 0;
    CK_RV rv;
    if (!m)
        return CKR_ARGUMENTS_BAD;
    if (op->active)
        return CKR_OPERATION_ACTIVE;
    if (mech_kind(m->mechanism, &is_msg, &is_der))
        return CKR_MECHANISM_INVALID;
    if (is_msg && ((m->ulParameterLen && !m->pParameter) || m->ulParameterLen > 8191))
        return CKR_MECHANISM_PARAM_INVALID;
    if (sign && !user_in(sl))
        return CKR_USER_NOT_LOGGED_IN;
    rv = obj_resolve(s, sl, hKey, &o, &r);
    if (rv != CKR_OK || !obj_visible(sl, o))
        return CKR_KEY_HANDLE_INVALID;
    suk_obj_ulong(o, CKA_CLASS, &cls);
    if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
        return CKR_KEY_HANDLE_INVALID;
    if (cls != (sign ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY))
        return CKR_KEY_TYPE_INCONSISTENT;
    if (suk_obj_ulong(o, CKA_KEY_TYPE, &kt) || kt != CKK_SM2)
        return CKR_KEY_TYPE_INCONSISTENT;
    if (!suk_obj_bool(o, sign ? CKA_SIGN : CKA_VERIFY, 1))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    op_clear(op);
    if (obj_pub_point(o, op->pub))
        return CKR_GENERAL_ERROR;
    if (sign) {
        suk_attr *w = suk_obj_get(o, SUK_ATTR_WRAPPED_D);
        if (!w || w->len != SUK_PRIV_BLOB)
            return CKR_GENERAL_ERROR;
        memcpy(op->wrapped, w->val, SUK_PRIV_BLOB);
        obj_make_aad(op->aad, sizeof(op->aad), sl, r->sobj == NULL, r->uid);
    }
    if (is_msg) {
        unsigned char z[32];
        const unsigned char *id = (const unsigned char *)SOFTUKEY_DEFAULT_ID;
        size_t idlen = 16;
        if (m->pParameter && m->ulParameterLen) {
            id = m->pParameter;
            idlen = m->ulParameterLen;
        }
        op->md = EVP_MD_CTX_new();
        if (!op->md || suk_sm2_z(id, idlen, op->pub, z) || EVP_DigestInit_ex(op->md, EVP_sm3(), NULL) != 1 ||
            EVP_DigestUpdate(op->md, z, 32) != 1) {
            op_clear(op);
            return CKR_GENERAL_ERROR;
        }
    }
    op->mech = m->mechanism;
    op->is_msg = is_msg;
    op->active = 1;
    return CKR_OK;
}

static void op_update(sigop_t *op, const unsigned char *p, size_t len, CK_RV *rv)
{
    op->updated = 1;
    if (op->is_msg) {
        if (len && EVP_DigestUpdate(op->md, p, len) != 1)
            *rv = CKR_GENERAL_ERROR;
    } else {
        if (op->buflen + len > 32) {
            op->overflow = 1;
        } else if (len) {
            memcpy(op->buf + op->buflen, p, len);
            op->buflen += len;
        }
    }
}

static CK_RV op_final_e(sigop_t *op, unsigned char e[32])
{
    unsigned int l = 0;
    if (op->is_msg) {
        if (EVP_DigestFinal_ex(op->md, e, &l) != 1 || l != 32)
            return CKR_GENERAL_ERROR;
        return CKR_OK;
    }
    if (op->overflow || op->buflen != 32)
        return CKR_DATA_LEN_RANGE;
    memcpy(e, op->buf, 32);
    return CKR_OK;
}

static int mech_is_der(CK_MECHANISM_TYPE m)
{
    return m == CKM_SM2_SM3_DER || m == CKM_SM2_DER;
}

/* produce the signature (computed once, cached for length queries / retries) */
static CK_RV sign_out(slot_t *sl, sigop_t *op, int single, const unsigned char *data, CK_ULONG len,
                      CK_BYTE_PTR pSig, CK_ULONG_PTR pulLen, int *computed)
{
    int der = mech_is_der(op->mech);
    size_t max = der ? 72 : 64;
    CK_RV rv;
    if (!op->have_sig) {
        unsigned char e[32], d[32], rs[64];
        if (!pSig) {
            *pulLen = max;
            return CKR_OK;
        }
        if (!der && *pulLen < 64) {
            *pulLen = 64;
            return CKR_BUFFER_TOO_SMALL;
        }
        if (!user_in(sl)) {
            op_clear(op);
            return CKR_USER_NOT_LOGGED_IN;
        }
        if (single) {
            if (!op->is_msg && len != 32) {
                op_clear(op);
                return CKR_DATA_LEN_RANGE;
            }
            rv = CKR_OK;
            op_update(op, data, len, &rv);
            if (rv != CKR_OK) {
                op_clear(op);
                return rv;
            }
        }
        rv = op_final_e(op, e);
        if (rv != CKR_OK) {
            op_clear(op);
            return rv;
        }
        if (suk_gcm_open(sl->tk, (const unsigned char *)op->aad, strlen(op->aad), op->wrapped, SUK_PRIV_BLOB, d)) {
            op_clear(op);
            return CKR_GENERAL_ERROR;
        }
        if (suk_sm2_sign_e(d, op->pub, e, g_cfg.have_test_k ? g_cfg.test_k : NULL, rs)) {
            suk_cleanse(d, sizeof(d));
            op_clear(op);
            return CKR_FUNCTION_FAILED;
        }
        suk_cleanse(d, sizeof(d));
        if (der) {
            if (suk_rs_to_der(rs, op->sig, &op->siglen)) {
                op_clear(op);
                return CKR_GENERAL_ERROR;
            }
        } else {
            memcpy(op->sig, rs, 64);
            op->siglen = 64;
        }
        op->have_sig = 1;
        *computed = 1;
    }
    if (!pSig) {
        *pulLen = op->siglen;
        return CKR_OK;
    }
    if (*pulLen < op->siglen) {
        *pulLen = op->siglen;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(pSig, op->sig, op->siglen);
    *pulLen = op->siglen;
    op_clear(op);
    return CKR_OK;
}

static CK_RV finish_sign(CK_RV rv, int computed)
{
    unsigned ms = g_cfg.sign_delay_ms;
    UNLOCK();
    if (computed && ms) {
        struct timespec ts;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    return rv;
}

/* The session's sign or verify operation; CKR_OK only when it is active. Called under the lock. */
static CK_RV active_op(CK_SESSION_HANDLE h, int sign, slot_t **sl, sigop_t **op)
{
    session_t *s;
    CK_RV rv = session_get(h, &s, sl);
    if (rv != CKR_OK)
        return rv;
    *op = sign ? &s->sign : &s->verify;
    return (*op)->active ? CKR_OK : CKR_OPERATION_NOT_INITIALIZED;
}

static CK_RV op_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k, int sign)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv = session_get(h, &s, &sl);
    if (rv != CKR_OK)
        return rv;
    return sigop_init(s, sl, sign ? &s->sign : &s->verify, m, k, sign);
}

/* C_SignUpdate / C_VerifyUpdate: one more part; a bad argument or a failure ends the operation. */
static CK_RV op_update_part(sigop_t *op, CK_BYTE_PTR part, CK_ULONG len)
{
    CK_RV rv = CKR_OK;
    if (!part && len) {
        op_clear(op);
        return CKR_ARGUMENTS_BAD;
    }
    op_update(op, part, len, &rv);
    if (rv != CKR_OK)
        op_clear(op);
    return rv;
}

CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    ENTER();
    RETURN(op_init(hSession, pMechanism, hKey, 1));
}

CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
             CK_ULONG_PTR pulSignatureLen)
{
    slot_t *sl;
    sigop_t *op;
    CK_RV rv;
    int computed = 0;
    ENTER();
    rv = active_op(hSession, 1, &sl, &op);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pulSignatureLen || (!pData && ulDataLen)) {
        op_clear(op);
        RETURN(CKR_ARGUMENTS_BAD);
    }
    if (op->updated && !op->have_sig)
        RETURN(CKR_OPERATION_ACTIVE);
    rv = sign_out(sl, op, 1, pData, ulDataLen, pSignature, pulSignatureLen, &computed);
    return finish_sign(rv, computed);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    slot_t *sl;
    sigop_t *op;
    CK_RV rv;
    ENTER();
    rv = active_op(hSession, 1, &sl, &op);
    if (rv != CKR_OK)
        RETURN(rv);
    /* Bad arguments end the operation (op_update_part) before the state is looked at. */
    if (op->have_sig && (pPart || !ulPartLen))
        RETURN(CKR_OPERATION_ACTIVE); /* a one-shot signature was computed: no more parts */
    RETURN(op_update_part(op, pPart, ulPartLen));
}

CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    slot_t *sl;
    sigop_t *op;
    CK_RV rv;
    int computed = 0;
    ENTER();
    rv = active_op(hSession, 1, &sl, &op);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pulSignatureLen) {
        op_clear(op);
        RETURN(CKR_ARGUMENTS_BAD);
    }
    op->updated = 1;
    rv = sign_out(sl, op, 0, NULL, 0, pSignature, pulSignatureLen, &computed);
    return finish_sign(rv, computed);
}

CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    (void)h; (void)m; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR s, CK_ULONG_PTR sl)
{
    (void)h; (void)d; (void)dl; (void)s; (void)sl;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---------------- verify ---------------- */

static CK_RV verify_do(sigop_t *op, int single, const unsigned char *data, CK_ULONG len,
                       const unsigned char *sig, CK_ULONG siglen)
{
    unsigned char rs[64], e[32];
    CK_RV rv = CKR_OK;
    int v;
    if (mech_is_der(op->mech)) {
        if (siglen < 8 || siglen > 72)
            return CKR_SIGNATURE_LEN_RANGE;
        if (suk_der_to_rs(sig, siglen, rs))
            return CKR_SIGNATURE_INVALID;
    } else {
        if (siglen != 64)
            return CKR_SIGNATURE_LEN_RANGE;
        memcpy(rs, sig, 64);
    }
    if (single) {
        if (!op->is_msg && len != 32)
            return CKR_DATA_LEN_RANGE;
        op_update(op, data, len, &rv);
        if (rv != CKR_OK)
            return rv;
    }
    rv = op_final_e(op, e);
    if (rv != CKR_OK)
        return rv;
    v = suk_sm2_verify_e(op->pub, e, rs);
    if (v < 0)
        return CKR_GENERAL_ERROR;
    return v ? CKR_OK : CKR_SIGNATURE_INVALID;
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    ENTER();
    RETURN(op_init(hSession, pMechanism, hKey, 0));
}

/* C_Verify and C_VerifyFinal: check the arguments, verify, and end the operation either way. */
static CK_RV verify_end(CK_SESSION_HANDLE h, int single, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
                        CK_ULONG siglen)
{
    slot_t *sl;
    sigop_t *op;
    CK_RV rv = active_op(h, 0, &sl, &op);
    if (rv != CKR_OK)
        return rv;
    if ((single && !data && len) || !sig) {
        op_clear(op);
        return CKR_ARGUMENTS_BAD;
    }
    if (single && op->updated)
        return CKR_OPERATION_ACTIVE;
    rv = verify_do(op, single, data, len, sig, siglen);
    op_clear(op);
    return rv;
}

CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
               CK_ULONG ulSignatureLen)
{
    ENTER();
    RETURN(verify_end(hSession, 1, pData, ulDataLen, pSignature, ulSignatureLen));
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    slot_t *sl;
    sigop_t *op;
    CK_RV rv;
    ENTER();
    rv = active_op(hSession, 0, &sl, &op);
    if (rv != CKR_OK)
        RETURN(rv);
    RETURN(op_update_part(op, pPart, ulPartLen));
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    ENTER();
    RETURN(verify_end(hSession, 0, NULL, 0, pSignature, ulSignatureLen));
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    (void)h; (void)m; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG sl, CK_BYTE_PTR d, CK_ULONG_PTR dl)
{
    (void)h; (void)s; (void)sl; (void)d; (void)dl;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---------------- digest ---------------- */

static void dig_clear(session_t *s)
{
    if (s->dig)
        EVP_MD_CTX_free(s->dig);
    s->dig = NULL;
    s->dig_active = s->dig_updated = 0;
}

CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pMechanism)
        RETURN(CKR_ARGUMENTS_BAD);
    if (s->dig_active)
        RETURN(CKR_OPERATION_ACTIVE);
    if (pMechanism->mechanism != CKM_SM3)
        RETURN(CKR_MECHANISM_INVALID);
    if (pMechanism->ulParameterLen)
        RETURN(CKR_MECHANISM_PARAM_INVALID);
    s->dig = EVP_MD_CTX_new();
    if (!s->dig || EVP_DigestInit_ex(s->dig, EVP_sm3(), NULL) != 1) {
        dig_clear(s);
        RETURN(CKR_GENERAL_ERROR);
    }
    s->dig_active = 1;
    RETURN(CKR_OK);
}

/* The session with an active digest operation; CKR_OK only then. Called under the lock. */
static CK_RV digest_session(CK_SESSION_HANDLE h, session_t **s)
{
    slot_t *sl;
    CK_RV rv = session_get(h, s, &sl);
    if (rv != CKR_OK)
        return rv;
    return (*s)->dig_active ? CKR_OK : CKR_OPERATION_NOT_INITIALIZED;
}

/* C_Digest and C_DigestFinal: the size query, then (one-shot: the data and) the final digest. */
static CK_RV digest_end(session_t *s, int single, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR out,
                        CK_ULONG_PTR outlen)
{
    unsigned int l = 0;
    CK_RV rv;
    if (!outlen || (single && !data && len)) {
        dig_clear(s);
        return CKR_ARGUMENTS_BAD;
    }
    if (single && s->dig_updated)
        return CKR_OPERATION_ACTIVE;
    if (!out || *outlen < 32) {
        rv = out ? CKR_BUFFER_TOO_SMALL : CKR_OK;
        *outlen = 32;
        return rv;
    }
    rv = (single && len && EVP_DigestUpdate(s->dig, data, len) != 1) ||
                 EVP_DigestFinal_ex(s->dig, out, &l) != 1
             ? CKR_GENERAL_ERROR
             : CKR_OK;
    *outlen = 32;
    dig_clear(s);
    return rv;
}

CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest,
               CK_ULONG_PTR pulDigestLen)
{
    session_t *s;
    CK_RV rv;
    ENTER();
    rv = digest_session(hSession, &s);
    if (rv != CKR_OK)
        RETURN(rv);
    RETURN(digest_end(s, 1, pData, ulDataLen, pDigest, pulDigestLen));
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    session_t *s;
    CK_RV rv;
    ENTER();
    rv = digest_session(hSession, &s);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pPart && ulPartLen) {
        dig_clear(s);
        RETURN(CKR_ARGUMENTS_BAD);
    }
    s->dig_updated = 1;
    if (ulPartLen && EVP_DigestUpdate(s->dig, pPart, ulPartLen) != 1) {
        dig_clear(s);
        RETURN(CKR_GENERAL_ERROR);
    }
    RETURN(CKR_OK);
}

CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
    (void)h; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    session_t *s;
    CK_RV rv;
    ENTER();
    rv = digest_session(hSession, &s);
    if (rv != CKR_OK)
        RETURN(rv);
    RETURN(digest_end(s, 0, NULL, 0, pDigest, pulDigestLen));
}

/* ---------------- key generation ---------------- */

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_ATTRIBUTE_PTR pPubTmpl, CK_ULONG ulPubCount,
                        CK_ATTRIBUTE_PTR pPrivTmpl, CK_ULONG ulPrivCount,
                        CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    suk_obj pub, priv, *objs[2];
    unsigned char d[32], pt[65], dummy[32];
    const unsigned char *ds[2];
    CK_OBJECT_HANDLE h[2];
    int have_d = 0;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pMechanism || !phPublicKey || !phPrivateKey || (!pPubTmpl && ulPubCount) || (!pPrivTmpl && ulPrivCount))
        RETURN(CKR_ARGUMENTS_BAD);
    if (pMechanism->mechanism != CKM_SM2_KEY_PAIR_GEN)
        RETURN(CKR_MECHANISM_INVALID);
    if (!user_in(sl))
        RETURN(CKR_USER_NOT_LOGGED_IN);
    rv = obj_build(pPubTmpl, ulPubCount, CKO_PUBLIC_KEY, 1, &pub, dummy, &have_d);
    if (rv != CKR_OK)
        RETURN(rv);
    rv = obj_build(pPrivTmpl, ulPrivCount, CKO_PRIVATE_KEY, 1, &priv, dummy, &have_d);
    if (rv != CKR_OK) {
        suk_obj_clear(&pub);
        RETURN(rv);
    }
    if (suk_sm2_keygen(d, pt) || obj_set_point(&pub, pt) || obj_set_point(&priv, pt)) {
        rv = CKR_FUNCTION_FAILED;
        goto end;
    }
    objs[0] = &pub;
    objs[1] = &priv;
    ds[0] = NULL;
    ds[1] = d;
    rv = obj_store(s, sl, objs, ds, 2, h);
    if (rv == CKR_OK) {
        *phPublicKey = h[0];
        *phPrivateKey = h[1];
    }
end:
    suk_cleanse(d, sizeof(d));
    suk_obj_clear(&pub);
    suk_obj_clear(&priv);
    RETURN(rv);
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
    (void)h; (void)m; (void)t; (void)n; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a, CK_OBJECT_HANDLE b, CK_BYTE_PTR w,
                CK_ULONG_PTR wl)
{
    (void)h; (void)m; (void)a; (void)b; (void)w; (void)wl;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE u, CK_BYTE_PTR w, CK_ULONG wl,
                  CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
    (void)h; (void)m; (void)u; (void)w; (void)wl; (void)t; (void)n; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                  CK_OBJECT_HANDLE_PTR k)
{
    (void)h; (void)m; (void)b; (void)t; (void)n; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---------------- random ---------------- */

CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pSeed && ulSeedLen)
        RETURN(CKR_ARGUMENTS_BAD);
    RETURN(CKR_RANDOM_SEED_NOT_SUPPORTED);
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandom, CK_ULONG ulRandomLen)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pRandom && ulRandomLen)
        RETURN(CKR_ARGUMENTS_BAD);
    if (ulRandomLen > 0x7fffffffUL)
        RETURN(CKR_ARGUMENTS_BAD);
    RETURN(suk_rand(pRandom, ulRandomLen) == 0 ? CKR_OK : CKR_FUNCTION_FAILED);
}

/* ---------------- encryption family: not supported ---------------- */

#define NS4(name, T1, T2, T3)                                     \
    CK_RV name(CK_SESSION_HANDLE h, T1 a, T2 b, T3 c)             \
    {                                                             \
        (void)h; (void)a; (void)b; (void)c;                       \
        return CKR_FUNCTION_NOT_SUPPORTED;                        \
    }
#define NS5(name, T1, T2, T3, T4)                                 \
    CK_RV name(CK_SESSION_HANDLE h, T1 a, T2 b, T3 c, T4 d)       \
    {                                                             \
        (void)h; (void)a; (void)b; (void)c; (void)d;              \
        return CKR_FUNCTION_NOT_SUPPORTED;                        \
    }

CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    (void)h; (void)m; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    (void)h; (void)m; (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
NS5(C_Encrypt, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)
NS5(C_EncryptUpdate, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)
NS5(C_Decrypt, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)
NS5(C_DecryptUpdate, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)
NS5(C_DigestEncryptUpdate, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)
NS5(C_DecryptDigestUpdate, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)
NS5(C_SignEncryptUpdate, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)
NS5(C_DecryptVerifyUpdate, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR)

CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG_PTR l)
{
    (void)h; (void)p; (void)l;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG_PTR l)
{
    (void)h; (void)p; (void)l;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
#undef NS4
#undef NS5

/* ---------------- function list ---------------- */

static CK_FUNCTION_LIST g_fl = {
    .version = {2, 40},
    .C_Initialize = C_Initialize,
    .C_Finalize = C_Finalize,
    .C_GetInfo = C_GetInfo,
    .C_GetFunctionList = C_GetFunctionList,
    .C_GetSlotList = C_GetSlotList,
    .C_GetSlotInfo = C_GetSlotInfo,
    .C_GetTokenInfo = C_GetTokenInfo,
    .C_GetMechanismList = C_GetMechanismList,
    .C_GetMechanismInfo = C_GetMechanismInfo,
    .C_InitToken = C_InitToken,
    .C_InitPIN = C_InitPIN,
    .C_SetPIN = C_SetPIN,
    .C_OpenSession = C_OpenSession,
    .C_CloseSession = C_CloseSession,
    .C_CloseAllSessions = C_CloseAllSessions,
    .C_GetSessionInfo = C_GetSessionInfo,
    .C_GetOperationState = C_GetOperationState,
    .C_SetOperationState = C_SetOperationState,
    .C_Login = C_Login,
    .C_Logout = C_Logout,
    .C_CreateObject = C_CreateObject,
    .C_CopyObject = C_CopyObject,
    .C_DestroyObject = C_DestroyObject,
    .C_GetObjectSize = C_GetObjectSize,
    .C_GetAttributeValue = C_GetAttributeValue,
    .C_SetAttributeValue = C_SetAttributeValue,
    .C_FindObjectsInit = C_FindObjectsInit,
    .C_FindObjects = C_FindObjects,
    .C_FindObjectsFinal = C_FindObjectsFinal,
    .C_EncryptInit = C_EncryptInit,
    .C_Encrypt = C_Encrypt,
    .C_EncryptUpdate = C_EncryptUpdate,
    .C_EncryptFinal = C_EncryptFinal,
    .C_DecryptInit = C_DecryptInit,
    .C_Decrypt = C_Decrypt,
    .C_DecryptUpdate = C_DecryptUpdate,
    .C_DecryptFinal = C_DecryptFinal,
    .C_DigestInit = C_DigestInit,
    .C_Digest = C_Digest,
    .C_DigestUpdate = C_DigestUpdate,
    .C_DigestKey = C_DigestKey,
    .C_DigestFinal = C_DigestFinal,
    .C_SignInit = C_SignInit,
    .C_Sign = C_Sign,
    .C_SignUpdate = C_SignUpdate,
    .C_SignFinal = C_SignFinal,
    .C_SignRecoverInit = C_SignRecoverInit,
    .C_SignRecover = C_SignRecover,
    .C_VerifyInit = C_VerifyInit,
    .C_Verify = C_Verify,
    .C_VerifyUpdate = C_VerifyUpdate,
    .C_VerifyFinal = C_VerifyFinal,
    .C_VerifyRecoverInit = C_VerifyRecoverInit,
    .C_VerifyRecover = C_VerifyRecover,
    .C_DigestEncryptUpdate = C_DigestEncryptUpdate,
    .C_DecryptDigestUpdate = C_DecryptDigestUpdate,
    .C_SignEncryptUpdate = C_SignEncryptUpdate,
    .C_DecryptVerifyUpdate = C_DecryptVerifyUpdate,
    .C_GenerateKey = C_GenerateKey,
    .C_GenerateKeyPair = C_GenerateKeyPair,
    .C_WrapKey = C_WrapKey,
    .C_UnwrapKey = C_UnwrapKey,
    .C_DeriveKey = C_DeriveKey,
    .C_SeedRandom = C_SeedRandom,
    .C_GenerateRandom = C_GenerateRandom,
    .C_GetFunctionStatus = C_GetFunctionStatus,
    .C_CancelFunction = C_CancelFunction,
    .C_WaitForSlotEvent = C_WaitForSlotEvent,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (!ppFunctionList)
        return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &g_fl;
    return CKR_OK;
}
