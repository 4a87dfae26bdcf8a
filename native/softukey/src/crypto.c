/*
 * crypto.c - SM2 / SM3 / KDF / AES-GCM primitives over OpenSSL 3 libcrypto.
 * SoftUKey is a DEVELOPMENT / TEST token.
 */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/obj_mac.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/crypto.h>
#include "internal.h"

static EC_GROUP *g_group;

int suk_crypto_init(void)
{
    if (!g_group)
        g_group = EC_GROUP_new_by_curve_name(NID_sm2);
    return g_group ? 0 : -1;
}

void suk_crypto_cleanup(void)
{
    EC_GROUP_free(g_group);
    g_group = NULL;
}

void suk_cleanse(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

int suk_rand(unsigned char *buf, size_t len)
{
    if (len == 0)
        return 0;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int suk_kdf(const unsigned char *pin, size_t pinlen, const unsigned char *salt,
            unsigned iter, unsigned char key[32])
{
    if (iter == 0)
        return -1;
    return PKCS5_PBKDF2_HMAC((const char *)pin, (int)pinlen, salt, SUK_SALT_LEN,
                             (int)iter, EVP_sha256(), 32, key) == 1 ? 0 : -1;
}

int suk_gcm_seal(const unsigned char key[32], const unsigned char *aad, size_t aadlen,
                 const unsigned char *pt, size_t ptlen, unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, ok = 0;
    if (!c)
        return -1;
    if (suk_rand(out, SUK_GCM_IV) != 0)
        goto end;
    if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SUK_GCM_IV, NULL) != 1 ||
        EVP_EncryptInit_ex(c, NULL, NULL, key, out) != 1)
        goto end;
    if (aadlen && EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadlen) != 1)
        goto end;
    if (EVP_EncryptUpdate(c, out + SUK_GCM_IV, &l, pt, (int)ptlen) != 1 || (size_t)l != ptlen)
        goto end;
    if (EVP_EncryptFinal_ex(c, out + SUK_GCM_IV + l, &l) != 1)
        goto end;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SUK_GCM_TAG, out + SUK_GCM_IV + ptlen) != 1)
        goto end;
    ok = 1;
end:
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int suk_gcm_open(const unsigned char key[32], const unsigned char *aad, size_t aadlen,
                 const unsigned char *in, size_t inlen, unsigned char *pt)
{
    EVP_CIPHER_CTX *c;
    int l = 0, ok = 0;
    size_t ctlen;
    unsigned char tag[SUK_GCM_TAG];
    if (inlen < SUK_GCM_IV + SUK_GCM_TAG)
        return -1;
    ctlen = inlen - SUK_GCM_IV - SUK_GCM_TAG;
    c = EVP_CIPHER_CTX_new();
    if (!c)
        return -1;
    memcpy(tag, in + SUK_GCM_IV + ctlen, SUK_GCM_TAG);
    if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SUK_GCM_IV, NULL) != 1 ||
        EVP_DecryptInit_ex(c, NULL, NULL, key, in) != 1)
        goto end;
    if (aadlen && EVP_DecryptUpdate(c, NULL, &l, aad, (int)aadlen) != 1)
        goto end;
    if (EVP_DecryptUpdate(c, pt, &l, in + SUK_GCM_IV, (int)ctlen) != 1)
        goto end;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SUK_GCM_TAG, tag) != 1)
        goto end;
    if (EVP_DecryptFinal_ex(c, pt + l, &l) != 1)
        goto end;
    ok = 1;
end:
    if (!ok)
        suk_cleanse(pt, ctlen);
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int suk_sm3(const unsigned char *m, size_t len, unsigned char out[32])
{
    unsigned int ol = 0;
    return EVP_Digest(m, len, out, &ol, EVP_sm3(), NULL) == 1 && ol == 32 ? 0 : -1;
}

/* ---------- SM2 ---------- */

static int point_to_bin(const EC_POINT *p, BN_CTX *ctx, unsigned char pub[65])
{
    return EC_POINT_point2oct(g_group, p, POINT_CONVERSION_UNCOMPRESSED, pub, 65, ctx) == 65 ? 0 : -1;
}

int suk_sm2_check_point(const unsigned char pub[65])
{
    EC_POINT *p;
    int ok = 0;
    if (!g_group || pub[0] != 0x04)
        return -1;
    p = EC_POINT_new(g_group);
    if (p && EC_POINT_oct2point(g_group, p, pub, 65, NULL) == 1 &&
        EC_POINT_is_on_curve(g_group, p, NULL) == 1 && !EC_POINT_is_at_infinity(g_group, p))
        ok = 1;
    EC_POINT_free(p);
    return ok ? 0 : -1;
}

int suk_sm2_pub_from_d(const unsigned char d[32], unsigned char pub[65])
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *bd = NULL, *lim = NULL;
    EC_POINT *p = NULL;
    int ok = 0;
    if (!ctx || !g_group)
        goto end;
    bd = BN_secure_new();
    lim = BN_new();
    if (!bd || !lim || !BN_bin2bn(d, 32, bd))
        goto end;
    /* 1 <= d <= n-2 */
    if (!BN_copy(lim, EC_GROUP_get0_order(g_group)) || !BN_sub_word(lim, 1))
        goto end;
    if (BN_is_zero(bd) || BN_cmp(bd, lim) >= 0)
        goto end;
    BN_set_flags(bd, BN_FLG_CONSTTIME);
    p = EC_POINT_new(g_group);
    if (!p || EC_POINT_mul(g_group, p, bd, NULL, NULL, ctx) != 1)
        goto end;
    ok = point_to_bin(p, ctx, pub) == 0;
end:
    EC_POINT_free(p);
    BN_clear_free(bd);
    BN_free(lim);
    BN_CTX_free(ctx);
    return ok ? 0 : -1;
}

int suk_sm2_keygen(unsigned char d[32], unsigned char pub[65])
{
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY *k = NULL;
    BIGNUM *bd = NULL;
    size_t pl = 0;
    int ok = 0;
    if (!kc || EVP_PKEY_keygen_init(kc) <= 0 || EVP_PKEY_keygen(kc, &k) <= 0)
        goto end;
    if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bd) != 1)
        goto end;
    if (BN_bn2binpad(bd, d, 32) != 32)
        goto end;
    if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, 65, &pl) != 1 || pl != 65 ||
        pub[0] != 0x04)
        goto end;
    ok = 1;
end:
    if (!ok)
        suk_cleanse(d, 32);
    BN_clear_free(bd);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(kc);
    return ok ? 0 : -1;
}

int suk_sm2_z(const unsigned char *id, size_t idlen, const unsigned char pub[65], unsigned char z[32])
{
    BN_CTX *ctx = NULL;
    BIGNUM *p = NULL, *a = NULL, *b = NULL, *xg = NULL, *yg = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char buf[32], entl[2];
    unsigned int ol = 0;
    int ok = 0;
    if (!g_group || idlen > 8191)
        return -1;
    ctx = BN_CTX_new();
    p = BN_new(); a = BN_new(); b = BN_new(); xg = BN_new(); yg = BN_new();
    md = EVP_MD_CTX_new();
    if (!ctx || !p || !a || !b || !xg || !yg || !md)
        goto end;
    if (EC_GROUP_get_curve(g_group, p, a, b, ctx) != 1 ||
        EC_POINT_get_affine_coordinates(g_group, EC_GROUP_get0_generator(g_group), xg, yg, ctx) != 1)
        goto end;
    entl[0] = (unsigned char)((idlen * 8) >> 8);
    entl[1] = (unsigned char)((idlen * 8) & 0xff);
    if (EVP_DigestInit_ex(md, EVP_sm3(), NULL) != 1 ||
        EVP_DigestUpdate(md, entl, 2) != 1 ||
        (idlen && EVP_DigestUpdate(md, id, idlen) != 1))
        goto end;
#define UPD_BN(x) do { if (BN_bn2binpad((x), buf, 32) != 32 || EVP_DigestUpdate(md, buf, 32) != 1) goto end; } while (0)
    UPD_BN(a);
    UPD_BN(b);
    UPD_BN(xg);
    UPD_BN(yg);
#undef UPD_BN
    if (EVP_DigestUpdate(md, pub + 1, 64) != 1 || EVP_DigestFinal_ex(md, z, &ol) != 1 || ol != 32)
        goto end;
    ok = 1;
end:
    EVP_MD_CTX_free(md);
    BN_free(p); BN_free(a); BN_free(b); BN_free(xg); BN_free(yg);
    BN_CTX_free(ctx);
    return ok ? 0 : -1;
}

static EVP_PKEY *sm2_pkey(const unsigned char *d /* may be NULL */, const unsigned char pub[65])
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *fc = NULL;
    EVP_PKEY *k = NULL;
    BIGNUM *bd = NULL;
    if (!bld)
        return NULL;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65) != 1)
        goto end;
    if (d) {
        bd = BN_secure_new();
        if (!bd || !BN_bin2bn(d, 32, bd) || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bd) != 1)
            goto end;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    fc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (!params || !fc || EVP_PKEY_fromdata_init(fc) != 1 ||
        EVP_PKEY_fromdata(fc, &k, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
        k = NULL;
end:
    EVP_PKEY_CTX_free(fc);
    OSSL_PARAM_free(params);   /* OSSL_PARAM_clear_free not in all 3.0 builds */
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(bd);
    return k;
}

int suk_rs_to_der(const unsigned char rs[64], unsigned char *der, size_t *derlen)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    unsigned char *p = der;
    int l, ok = 0;
    if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        goto end;
    }
    l = i2d_ECDSA_SIG(sig, NULL);
    if (l <= 0 || l > 72)
        goto end;
    l = i2d_ECDSA_SIG(sig, &p);
    if (l <= 0)
        goto end;
    *derlen = (size_t)l;
    ok = 1;
end:
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

int suk_der_to_rs(const unsigned char *der, size_t derlen, unsigned char rs[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;
    unsigned char re[80];
    unsigned char *q = re;
    int ok = 0, l;
    if (derlen > 72)
        return -1;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (!sig)
        return -1;
    if ((size_t)(p - der) != derlen)
        goto end;
    /* strict DER: re-encoding must be identical */
    l = i2d_ECDSA_SIG(sig, NULL);
    if (l <= 0 || (size_t)l != derlen)
        goto end;
    l = i2d_ECDSA_SIG(sig, &q);
    if (l <= 0 || memcmp(re, der, derlen) != 0)
        goto end;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_is_negative(r) || BN_is_negative(s) || BN_num_bytes(r) > 32 || BN_num_bytes(s) > 32)
        goto end;
    if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
        goto end;
    ok = 1;
end:
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

/* Textbook SM2 signature with caller-provided k (TEST ONLY, SOFTUKEY_TEST_K). */
static int sm2_sign_fixed_k(const unsigned char d[32], const unsigned char e[32],
                            const unsigned char kb[32], unsigned char rs[64])
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *bd, *be, *k, *r, *s, *x1, *t, *rk;
    const BIGNUM *n;
    EC_POINT *P = NULL;
    int ok = 0;
    if (!ctx)
        return -1;
    BN_CTX_start(ctx);
    bd = BN_CTX_get(ctx); be = BN_CTX_get(ctx); k = BN_CTX_get(ctx); r = BN_CTX_get(ctx);
    s = BN_CTX_get(ctx); x1 = BN_CTX_get(ctx); t = BN_CTX_get(ctx); rk = BN_CTX_get(ctx);
    if (!rk)
        goto end;
    n = EC_GROUP_get0_order(g_group);
    if (!BN_bin2bn(d, 32, bd) || !BN_bin2bn(e, 32, be) || !BN_bin2bn(kb, 32, k))
        goto end;
    if (BN_is_zero(k) || BN_cmp(k, n) >= 0)
        goto end;
    P = EC_POINT_new(g_group);
    if (!P || EC_POINT_mul(g_group, P, k, NULL, NULL, ctx) != 1 ||
        EC_POINT_get_affine_coordinates(g_group, P, x1, NULL, ctx) != 1)
        goto end;
    /* r = (e + x1) mod n */
    if (!BN_mod_add(r, be, x1, n, ctx))
        goto end;
    if (!BN_add(rk, r, k))
        goto end;
    if (BN_is_zero(r) || BN_cmp(rk, n) == 0)
        goto end;
    /* s = (1 + d)^-1 * (k - r*d) mod n */
    if (!BN_copy(t, bd) || !BN_add_word(t, 1) || !BN_mod_inverse(t, t, n, ctx))
        goto end;
    if (!BN_mod_mul(s, r, bd, n, ctx) || !BN_mod_sub(s, k, s, n, ctx) || !BN_mod_mul(s, s, t, n, ctx))
        goto end;
    if (BN_is_zero(s))
        goto end;
    if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
        goto end;
    ok = 1;
end:
    EC_POINT_free(P);
    if (bd)
        BN_clear(bd);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return ok ? 0 : -1;
}

int suk_sm2_sign_e(const unsigned char d[32], const unsigned char pub[65],
                   const unsigned char e[32], const unsigned char *fixed_k, unsigned char rs[64])
{
    EVP_PKEY *k;
    EVP_PKEY_CTX *c = NULL;
    unsigned char der[80];
    size_t dl = sizeof(der);
    int ok = 0;
    if (!g_group)
        return -1;
    if (fixed_k)
        return sm2_sign_fixed_k(d, e, fixed_k, rs);
    k = sm2_pkey(d, pub);
    if (!k)
        return -1;
    /* OpenSSL SM2 signature provider: with no digest set, EVP_PKEY_sign signs
     * the given 32 bytes as the SM2 "e" value (sm2_sig_gen). */
    c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    if (c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, der, &dl, e, 32) == 1 &&
        suk_der_to_rs(der, dl, rs) == 0)
        ok = 1;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

/* returns 1 valid, 0 invalid, -1 error */
int suk_sm2_verify_e(const unsigned char pub[65], const unsigned char e[32], const unsigned char rs[64])
{
    EVP_PKEY *k;
    EVP_PKEY_CTX *c = NULL;
    unsigned char der[80];
    size_t dl = 0;
    int rv = -1;
    static const unsigned char zero[32];
    if (!g_group)
        return -1;
    if (memcmp(rs, zero, 32) == 0 || memcmp(rs + 32, zero, 32) == 0)
        return 0;
    if (suk_rs_to_der(rs, der, &dl) != 0)
        return -1;
    k = sm2_pkey(NULL, pub);
    if (!k)
        return -1;
    c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    if (c && EVP_PKEY_verify_init(c) == 1)
        rv = EVP_PKEY_verify(c, der, dl, e, 32) == 1 ? 1 : 0;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(k);
    return rv;
}
