/* common.h - shared helpers for the SoftUKey test programs (dlopen consumer) */
#ifndef SUK_TEST_COMMON_H
#define SUK_TEST_COMMON_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include "pkcs11.h"
#include "softukey.h"

static CK_FUNCTION_LIST_PTR F;
static void *g_dl;
static const char *g_libpath;

static __attribute__((unused)) int lib_load(void)
{
    CK_C_GetFunctionList gfl;
    g_dl = dlopen(g_libpath, RTLD_NOW | RTLD_LOCAL);
    if (!g_dl) {
        fprintf(stderr, "dlopen(%s): %s\n", g_libpath, dlerror());
        return -1;
    }
    gfl = (CK_C_GetFunctionList)dlsym(g_dl, "C_GetFunctionList");
    if (!gfl || gfl(&F) != CKR_OK || !F) {
        fprintf(stderr, "C_GetFunctionList failed\n");
        return -1;
    }
    return 0;
}

static __attribute__((unused)) void lib_unload(void)
{
    if (g_dl)
        dlclose(g_dl);
    g_dl = NULL;
    F = NULL;
}

static __attribute__((unused)) int hex2bin(const char *h, unsigned char *out, size_t max)
{
    size_t n = strlen(h) / 2, i;
    if (n > max)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return (int)n;
}

static __attribute__((unused)) void bin2hex(const unsigned char *b, size_t n, char *out)
{
    size_t i;
    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = 0;
}

/* OpenSSL SM2 key from public point and optional d */
static __attribute__((unused)) EVP_PKEY *ossl_sm2_key(const unsigned char pub[65], const unsigned char *d)
{
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *p = NULL;
    EVP_PKEY_CTX *c = NULL;
    EVP_PKEY *k = NULL;
    BIGNUM *bd = NULL;
    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0);
    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, 65);
    if (d) {
        bd = BN_bin2bn(d, 32, NULL);
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, bd);
    }
    p = OSSL_PARAM_BLD_to_param(b);
    c = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (!c || EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, &k, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, p) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(b);
    BN_free(bd);
    return k;
}

/* 1 = valid */
static __attribute__((unused)) int ossl_verify(const unsigned char pub[65], const char *id, size_t idlen, const unsigned char *msg,
                       size_t mlen, const unsigned char *der, size_t dlen)
{
    EVP_PKEY *k = ossl_sm2_key(pub, NULL);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    int ok = 0;
    if (k && m && pc && EVP_PKEY_CTX_set1_id(pc, id, idlen) > 0) {
        EVP_MD_CTX_set_pkey_ctx(m, pc);
        if (EVP_DigestVerifyInit(m, NULL, EVP_sm3(), NULL, k) == 1 &&
            EVP_DigestVerify(m, der, dlen, msg, mlen) == 1)
            ok = 1;
    }
    EVP_MD_CTX_free(m);
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(k);
    return ok;
}

static __attribute__((unused)) int ossl_sign(const unsigned char pub[65], const unsigned char d[32], const char *id, size_t idlen,
                     const unsigned char *msg, size_t mlen, unsigned char *der, size_t *dlen)
{
    EVP_PKEY *k = ossl_sm2_key(pub, d);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    int ok = 0;
    if (k && m && pc && EVP_PKEY_CTX_set1_id(pc, id, idlen) > 0) {
        EVP_MD_CTX_set_pkey_ctx(m, pc);
        if (EVP_DigestSignInit(m, NULL, EVP_sm3(), NULL, k) == 1 &&
            EVP_DigestSign(m, der, dlen, msg, mlen) == 1)
            ok = 1;
    }
    EVP_MD_CTX_free(m);
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(k);
    return ok;
}

/* independent Z computation from the published curve constants */
static __attribute__((unused)) void test_sm3(const unsigned char *m, size_t n, unsigned char out[32])
{
    unsigned int l = 32;
    EVP_Digest(m, n, out, &l, EVP_sm3(), NULL);
}

static __attribute__((unused)) void test_z(const char *id, size_t idlen, const unsigned char pub[65], unsigned char z[32])
{
    static const char *consts =
        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
        "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
        "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
        "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";
    unsigned char buf[2 + 256 + 128 + 64];
    size_t o = 0;
    buf[o++] = (unsigned char)((idlen * 8) >> 8);
    buf[o++] = (unsigned char)(idlen * 8);
    memcpy(buf + o, id, idlen);
    o += idlen;
    hex2bin(consts, buf + o, 128);
    o += 128;
    memcpy(buf + o, pub + 1, 64);
    o += 64;
    test_sm3(buf, o, z);
}

static __attribute__((unused)) void test_e(const char *id, size_t idlen, const unsigned char pub[65], const unsigned char *msg, size_t mlen,
                   unsigned char e[32])
{
    unsigned char z[32];
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int l = 32;
    test_z(id, idlen, pub, z);
    EVP_DigestInit_ex(m, EVP_sm3(), NULL);
    EVP_DigestUpdate(m, z, 32);
    EVP_DigestUpdate(m, msg, mlen);
    EVP_DigestFinal_ex(m, e, &l);
    EVP_MD_CTX_free(m);
}

/* raw r||s -> DER */
static __attribute__((unused)) size_t rs2der(const unsigned char rs[64], unsigned char *der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    unsigned char *p = der;
    int l;
    ECDSA_SIG_set0(s, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
    l = i2d_ECDSA_SIG(s, &p);
    ECDSA_SIG_free(s);
    return l > 0 ? (size_t)l : 0;
}

static __attribute__((unused)) int der2rs(const unsigned char *der, size_t n, unsigned char rs[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)n);
    const BIGNUM *r, *ss;
    if (!s)
        return -1;
    ECDSA_SIG_get0(s, &r, &ss);
    BN_bn2binpad(r, rs, 32);
    BN_bn2binpad(ss, rs + 32, 32);
    ECDSA_SIG_free(s);
    return 0;
}

#endif
