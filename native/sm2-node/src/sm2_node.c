/*
 * sm2_node: SM2 (GB/T 32918) signing and verification of a precomputed digest e = SM3(Z || M) for
 * plain Node, over the OpenSSL that Node itself carries (its symbols resolve from the node binary;
 * no system libssl is linked). Electron's BoringSSL has no SM2, so the JS side falls back to pure JS.
 *
 * - sign: OpenSSL's own SM2 signature (EVP_PKEY_sign signs the given e directly), whose k*G uses
 *   the constant-time ladder: the private key never meets a variable-time path here.
 * - verify: public data only, so it may be fast rather than constant-time: s*G and t*P each use a
 *   precomputed wNAF table (G's once per process; P's once a key is seen again), ~3x OpenSSL's
 *   verify, which recomputes t*P's doubling chain every time.
 *
 * Handles are N-API externals that free their OpenSSL objects when garbage-collected.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define CHECK_NAPI(env, call)                                                                      \
    do {                                                                                           \
        if ((call) != napi_ok) {                                                                   \
            napi_throw_error((env), NULL, "sm2_node: N-API call failed");                          \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

static EC_GROUP *g_group; /* SM2 curve with G's precomputed multiples */
static BIGNUM *g_zero;

typedef struct {
    EVP_PKEY *pkey;
} priv_handle;

typedef struct {
    EC_POINT *point;   /* P on g_group */
    EC_GROUP *p_group; /* the curve with P as generator and P's multiples precomputed, lazily */
    uint32_t uses;
} pub_handle;

static napi_value throw_err(napi_env env, const char *msg) {
    napi_throw_error(env, NULL, msg);
    return NULL;
}

/* Bytes of a Buffer/Uint8Array argument; 0 if it is not one. */
static int get_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
    bool is_buf = false;
    if (napi_is_buffer(env, v, &is_buf) == napi_ok && is_buf) {
        void *d;
        if (napi_get_buffer_info(env, v, &d, len) != napi_ok) return 0;
        *data = d;
        return 1;
    }
    bool is_ta = false;
    if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
    napi_typedarray_type type;
    void *d;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &type, len, &d, &ab, &off) != napi_ok) return 0;
    if (type != napi_uint8_array) return 0;
    *data = d;
    return 1;
}

static void free_priv(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    priv_handle *h = data;
    EVP_PKEY_free(h->pkey);
    OPENSSL_free(h);
}

static void free_pub(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    pub_handle *h = data;
    EC_POINT_free(h->point);
    EC_GROUP_free(h->p_group);
    OPENSSL_free(h);
}

/* The single argument of a one-argument function as bytes; 0 when missing or not bytes. */
static int bytes_arg(napi_env env, napi_callback_info info, const uint8_t **data, size_t *len) {
    size_t argc = 1;
    napi_value argv[1];
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return 0;
    return get_bytes(env, argv[0], data, len);
}

/* Hands a native handle to JS (freed by `fin` when collected); on failure frees it and throws. */
static napi_value to_external(napi_env env, void *h, napi_finalize fin) {
    napi_value out;
    if (napi_create_external(env, h, fin, NULL, &out) != napi_ok) {
        fin(env, h, NULL);
        return throw_err(env, "sm2_node: N-API call failed");
    }
    return out;
}

/* privateKey(d: 32 bytes) -> handle. 1 <= d < n-1 (as GB/T 32918 requires), else throws. */
static napi_value private_key(napi_env env, napi_callback_info info) {
    const uint8_t *d;
    size_t dlen;
    if (!bytes_arg(env, info, &d, &dlen) || dlen != 32)
        return throw_err(env, "SM2 private key must be 32 bytes");
    BIGNUM *bn = BN_bin2bn(d, 32, NULL);
    BIGNUM *max = BN_dup(EC_GROUP_get0_order(g_group));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    const char *err = "SM2 private key is out of range";
    if (!bn || !max || !bld || !BN_sub_word(max, 1)) goto done;
    if (BN_is_zero(bn) || BN_cmp(bn, max) >= 0) goto done;
    err = "SM2 private key import failed";
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
        goto done;
    err = NULL;
done:
    BN_clear_free(bn);
    BN_free(max);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    if (err) {
        EVP_PKEY_free(pkey);
        return throw_err(env, err);
    }
    priv_handle *h = OPENSSL_zalloc(sizeof *h);
    if (!h) {
        EVP_PKEY_free(pkey);
        return throw_err(env, "out of memory");
    }
    h->pkey = pkey;
    return to_external(env, h, free_priv);
}

/* publicKey(point: 65 bytes 04||x||y) -> handle; throws if the point is not on the curve. */
static napi_value public_key(napi_env env, napi_callback_info info) {
    const uint8_t *p;
    size_t plen;
    if (!bytes_arg(env, info, &p, &plen) || plen != 65 || p[0] != 4)
        return throw_err(env, "SM2 public key must be an uncompressed point (65 bytes starting 04)");
    EC_POINT *pt = EC_POINT_new(g_group);
    /* oct2point rejects points off the curve; cofactor 1, so on-curve and finite suffices. */
    if (!pt || !EC_POINT_oct2point(g_group, pt, p, plen, NULL) ||
        EC_POINT_is_at_infinity(g_group, pt)) {
        EC_POINT_free(pt);
        return throw_err(env, "SM2 public key is not a point on the curve");
    }
    pub_handle *h = OPENSSL_zalloc(sizeof *h);
    if (!h) {
        EC_POINT_free(pt);
        return throw_err(env, "out of memory");
    }
    h->point = pt;
    return to_external(env, h, free_pub);
}

/* publicFromPrivate(d: 32 bytes) -> 65-byte point d*G (constant-time ladder). */
static napi_value public_from_private(napi_env env, napi_callback_info info) {
    const uint8_t *d;
    size_t dlen;
    if (!bytes_arg(env, info, &d, &dlen) || dlen != 32)
        return throw_err(env, "SM2 private key must be 32 bytes");
    BIGNUM *bn = BN_secure_new();
    EC_POINT *pt = EC_POINT_new(g_group);
    uint8_t out[65];
    size_t n = 0;
    if (bn && pt && BN_bin2bn(d, 32, bn)) {
        BN_set_flags(bn, BN_FLG_CONSTTIME);
        if (!BN_is_zero(bn) && BN_cmp(bn, EC_GROUP_get0_order(g_group)) < 0 &&
            EC_POINT_mul(g_group, pt, bn, NULL, NULL, NULL))
            n = EC_POINT_point2oct(g_group, pt, POINT_CONVERSION_UNCOMPRESSED, out, sizeof out,
                                   NULL);
    }
    BN_clear_free(bn);
    EC_POINT_free(pt);
    if (n != 65) return throw_err(env, "SM2 private key is out of range");
    napi_value buf;
    CHECK_NAPI(env, napi_create_buffer_copy(env, 65, out, NULL, &buf));
    return buf;
}

/* signDigest(handle, e: 32 bytes) -> DER signature. */
static napi_value sign_digest(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    priv_handle *h = NULL;
    const uint8_t *e;
    size_t elen;
    napi_valuetype t;
    if (argc < 2 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
        napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !h)
        return throw_err(env, "not an SM2 private key handle");
    if (!get_bytes(env, argv[1], &e, &elen) || elen != 32)
        return throw_err(env, "SM2 digest must be 32 bytes");
    uint8_t sig[80];
    size_t siglen = sizeof sig;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, h->pkey, NULL);
    int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 && EVP_PKEY_sign(ctx, sig, &siglen, e, elen) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return throw_err(env, "SM2 signing failed");
    napi_value buf;
    CHECK_NAPI(env, napi_create_buffer_copy(env, siglen, sig, NULL, &buf));
    return buf;
}

/* signDigestAsync(handle, e) -> Promise<DER>: the same signature, computed on the libuv pool. */
typedef struct {
    napi_async_work work;
    napi_deferred deferred;
    napi_ref key_ref; /* keeps the handle (and its EVP_PKEY) alive while the pool works */
    EVP_PKEY *pkey;
    uint8_t e[32];
    uint8_t sig[80];
    size_t siglen;
    int ok;
} sign_job;

static void sign_execute(napi_env env, void *data) {
    (void)env;
    sign_job *j = data;
    j->siglen = sizeof j->sig;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, j->pkey, NULL);
    j->ok = ctx && EVP_PKEY_sign_init(ctx) > 0 &&
            EVP_PKEY_sign(ctx, j->sig, &j->siglen, j->e, sizeof j->e) > 0;
    EVP_PKEY_CTX_free(ctx);
}

static void sign_complete(napi_env env, napi_status status, void *data) {
    sign_job *j = data;
    napi_value result = NULL;
    if (status == napi_ok && j->ok &&
        napi_create_buffer_copy(env, j->siglen, j->sig, NULL, &result) == napi_ok) {
        napi_resolve_deferred(env, j->deferred, result);
    } else {
        napi_value msg, err;
        napi_create_string_utf8(env, "SM2 signing failed", NAPI_AUTO_LENGTH, &msg);
        napi_create_error(env, NULL, msg, &err);
        napi_reject_deferred(env, j->deferred, err);
    }
    napi_delete_reference(env, j->key_ref);
    napi_delete_async_work(env, j->work);
    OPENSSL_cleanse(j, sizeof *j);
    OPENSSL_free(j);
}

static napi_value sign_digest_async(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    priv_handle *h = NULL;
    const uint8_t *e;
    size_t elen;
    napi_valuetype t;
    if (argc < 2 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
        napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !h)
        return throw_err(env, "not an SM2 private key handle");
    if (!get_bytes(env, argv[1], &e, &elen) || elen != 32)
        return throw_err(env, "SM2 digest must be 32 bytes");
    sign_job *j = OPENSSL_zalloc(sizeof *j);
    if (!j) return throw_err(env, "out of memory");
    j->pkey = h->pkey;
    memcpy(j->e, e, 32);
    napi_value promise, name;
    if (napi_create_reference(env, argv[0], 1, &j->key_ref) != napi_ok) {
        OPENSSL_free(j);
        return throw_err(env, "sm2_node: N-API call failed");
    }
    if (napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
        napi_create_string_utf8(env, "sm2_sign", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_async_work(env, NULL, name, sign_execute, sign_complete, j, &j->work) !=
            napi_ok ||
        napi_queue_async_work(env, j->work) != napi_ok) {
        /* Only reachable before queuing; a created promise is then simply never settled. */
        napi_delete_reference(env, j->key_ref);
        if (j->work) napi_delete_async_work(env, j->work);
        OPENSSL_free(j);
        return throw_err(env, "sm2_node: N-API call failed");
    }
    return promise;
}

/*
 * k*X through the wNAF path, which uses X's precomputed table when `group`'s generator is X.
 * (A lone generator multiple would take OpenSSL's constant-time ladder, which ignores the table; a
 * second term 0*X keeps it on wNAF. Only public scalars come here.)
 */
static int mul_public(const EC_GROUP *group, EC_POINT *r, const BIGNUM *k, BN_CTX *ctx) {
    const EC_POINT *pts[1] = {EC_GROUP_get0_generator(group)};
    const BIGNUM *ks[1] = {g_zero};
    return EC_POINTs_mul(group, r, k, 1, pts, ks, ctx);
}

/* verifyDigest(handle, e: 32 bytes, r||s: 64 bytes) -> boolean (GB/T 32918.2 §7.1). */
static napi_value verify_digest(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    pub_handle *h = NULL;
    const uint8_t *e, *rs;
    size_t elen, rslen;
    napi_valuetype vt;
    if (argc < 3 || napi_typeof(env, argv[0], &vt) != napi_ok || vt != napi_external ||
        napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !h)
        return throw_err(env, "not an SM2 public key handle");
    if (!get_bytes(env, argv[1], &e, &elen) || elen != 32)
        return throw_err(env, "SM2 digest must be 32 bytes");
    if (!get_bytes(env, argv[2], &rs, &rslen) || rslen != 64)
        return throw_err(env, "SM2 signature must be 64 bytes r||s");

    BN_CTX *ctx = BN_CTX_new();
    if (!ctx) return throw_err(env, "out of memory");
    BN_CTX_start(ctx);
    BIGNUM *r = BN_CTX_get(ctx), *s = BN_CTX_get(ctx), *t = BN_CTX_get(ctx);
    BIGNUM *ebn = BN_CTX_get(ctx), *x1 = BN_CTX_get(ctx);
    EC_POINT *sg = EC_POINT_new(g_group), *tp = EC_POINT_new(g_group);
    const BIGNUM *n = EC_GROUP_get0_order(g_group);
    int valid = 0, failed = 1;
    if (!x1 || !sg || !tp) goto done;
    if (!BN_bin2bn(rs, 32, r) || !BN_bin2bn(rs + 32, 32, s) || !BN_bin2bn(e, 32, ebn)) goto done;
    failed = 0;
    /* B1, B2: r, s in [1, n-1]; B5: t = (r + s) mod n != 0 */
    if (BN_is_zero(r) || BN_cmp(r, n) >= 0 || BN_is_zero(s) || BN_cmp(s, n) >= 0) goto done;
    failed = 1;
    if (!BN_mod_add(t, r, s, n, ctx)) goto done;
    failed = 0;
    if (BN_is_zero(t)) goto done;
    failed = 1;
    /* A key seen twice is worth its table (~as much work as one verification). */
    if (!h->p_group && ++h->uses >= 2) {
        EC_GROUP *pg = EC_GROUP_dup(g_group);
        if (pg && EC_GROUP_set_generator(pg, h->point, n, BN_value_one()) &&
            EC_GROUP_precompute_mult(pg, ctx))
            h->p_group = pg;
        else
            EC_GROUP_free(pg);
    }
    /* B6: (x1, y1) = s*G + t*P */
    if (!mul_public(g_group, sg, s, ctx)) goto done;
    if (h->p_group) {
        if (!mul_public(h->p_group, tp, t, ctx)) goto done;
    } else if (!EC_POINT_mul(g_group, tp, NULL, h->point, t, ctx)) {
        goto done;
    }
    if (!EC_POINT_add(g_group, sg, sg, tp, ctx)) goto done;
    failed = 0;
    if (EC_POINT_is_at_infinity(g_group, sg)) goto done;
    failed = 1;
    if (!EC_POINT_get_affine_coordinates(g_group, sg, x1, NULL, ctx)) goto done;
    /* B7: R = (e + x1) mod n == r */
    if (!BN_mod_add(x1, ebn, x1, n, ctx)) goto done;
    failed = 0;
    valid = BN_cmp(x1, r) == 0;
done:
    EC_POINT_free(sg);
    EC_POINT_free(tp);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    if (failed) return throw_err(env, "SM2 verification failed to run");
    napi_value out;
    CHECK_NAPI(env, napi_get_boolean(env, valid, &out));
    return out;
}

/* Once per process (worker threads may load the addon concurrently); read-only afterwards. */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ready;

static void init_once(void) {
    g_group = EC_GROUP_new_by_curve_name(NID_sm2);
    g_zero = BN_new();
    if (!g_group || !g_zero || !EC_GROUP_precompute_mult(g_group, NULL)) return;
    BN_zero(g_zero);
    g_ready = 1;
}

static napi_value init(napi_env env, napi_value exports) {
    pthread_once(&g_once, init_once);
    if (!g_ready) return throw_err(env, "sm2_node: this OpenSSL has no SM2 curve");
    napi_property_descriptor props[] = {
        {"privateKey", NULL, private_key, NULL, NULL, NULL, napi_default, NULL},
        {"publicKey", NULL, public_key, NULL, NULL, NULL, napi_default, NULL},
        {"publicFromPrivate", NULL, public_from_private, NULL, NULL, NULL, napi_default, NULL},
        {"signDigest", NULL, sign_digest, NULL, NULL, NULL, napi_default, NULL},
        {"signDigestAsync", NULL, sign_digest_async, NULL, NULL, NULL, napi_default, NULL},
        {"verifyDigest", NULL, verify_digest, NULL, NULL, NULL, napi_default, NULL},
    };
    CHECK_NAPI(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
