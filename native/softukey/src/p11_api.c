/*
 * p11_api.c - general, slot/token, session and PIN functions.
 * SoftUKey: an SM2 software UKey - DEVELOPMENT / TEST token only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include "p11.h"
#include "p11_fn.h"

#define MANUFACTURER "SoftUKey (DEV ONLY)"
#define DEFAULT_MODEL "SM2 SoftUKey"

static void pad(CK_UTF8CHAR *dst, size_t n, const void *src, size_t len)
{
    memset(dst, ' ', n);
    memcpy(dst, src, len < n ? len : n);
}

static unsigned env_uint(const char *name, unsigned dflt, unsigned max)
{
    const char *v = getenv(name);
    char *end;
    unsigned long u;
    if (!v || !*v)
        return dflt;
    u = strtoul(v, &end, 10);
    if (*end || u > max)
        return dflt;
    return (unsigned)u;
}

static void load_config(void)
{
    const char *dir = getenv("SOFTUKEY_DIR"), *k;
    memset(&g_cfg, 0, sizeof(g_cfg));
    if (dir && *dir) {
        snprintf(g_cfg.dir, sizeof(g_cfg.dir), "%s", dir);
    } else {
        const char *home = getenv("HOME");
        snprintf(g_cfg.dir, sizeof(g_cfg.dir), "%s/.softukey", home && *home ? home : ".");
    }
    g_cfg.sign_delay_ms = env_uint("SOFTUKEY_SIGN_DELAY_MS", 0, 600000);
    g_cfg.max_tries = env_uint("SOFTUKEY_MAX_TRIES", 0, 1000);
    g_cfg.kdf_iter = env_uint("SOFTUKEY_KDF_ITER", 0, 100000000);
    k = getenv("SOFTUKEY_TEST_K"); /* TEST ONLY: fixed SM2 nonce */
    if (k && strlen(k) == 64) {
        size_t i;
        int ok = 1;
        for (i = 0; i < 32 && ok; i++) {
            unsigned v;
            if (sscanf(k + 2 * i, "%2x", &v) != 1)
                ok = 0;
            g_cfg.test_k[i] = (unsigned char)v;
        }
        g_cfg.have_test_k = ok;
    }
}

/* ================================================================== */
/* General purpose                                                     */

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    CK_C_INITIALIZE_ARGS *a = (CK_C_INITIALIZE_ARGS *)pInitArgs;
    if (a) {
        int nfn = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) + (a->LockMutex != NULL) +
                  (a->UnlockMutex != NULL);
        if (a->pReserved != NULL || (nfn != 0 && nfn != 4))
            return CKR_ARGUMENTS_BAD;
        /* We always use our own pthread mutex; this is valid whether or not
         * CKF_OS_LOCKING_OK is set (POSIX threads are the OS primitives). */
    }
    LOCK();
    if (g_init) {
        UNLOCK();
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    load_config();
    if (suk_crypto_init() != 0) {
        UNLOCK();
        return CKR_GENERAL_ERROR;
    }
    g_init = 1;
    g_gen++;
    slots_scan();
    slots_mark_reported();
    UNLOCK();
    return CKR_OK;
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    if (pReserved)
        return CKR_ARGUMENTS_BAD;
    LOCK();
    if (!g_init) {
        UNLOCK();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    state_free_all();
    suk_crypto_cleanup();
    suk_cleanse(&g_cfg, sizeof(g_cfg));
    g_init = 0;
    g_gen++;
    UNLOCK();
    return CKR_OK;
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    ENTER();
    if (!pInfo)
        RETURN(CKR_ARGUMENTS_BAD);
    memset(pInfo, 0, sizeof(*pInfo));
    pInfo->cryptokiVersion.major = 2;
    pInfo->cryptokiVersion.minor = 40;
    pad(pInfo->manufacturerID, 32, MANUFACTURER, strlen(MANUFACTURER));
    pInfo->flags = 0;
    pad(pInfo->libraryDescription, 32, "SoftUKey SM2 PKCS#11 (DEV ONLY)", 31);
    pInfo->libraryVersion.major = 1;
    pInfo->libraryVersion.minor = 0;
    RETURN(CKR_OK);
}

/* ================================================================== */
/* Slots and tokens                                                    */

CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
    size_t i, n = 0, k = 0;
    ENTER();
    if (!pulCount)
        RETURN(CKR_ARGUMENTS_BAD);
    slots_scan();
    for (i = 0; i < slot_count(); i++)
        if (!tokenPresent || slot_at(i)->present)
            n++;
    if (!pSlotList) {
        *pulCount = n;
        RETURN(CKR_OK);
    }
    if (*pulCount < n) {
        *pulCount = n;
        RETURN(CKR_BUFFER_TOO_SMALL);
    }
    for (i = 0; i < slot_count(); i++)
        if (!tokenPresent || slot_at(i)->present)
            pSlotList[k++] = slot_at(i)->id;
    *pulCount = n;
    RETURN(CKR_OK);
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    slot_t *sl;
    char desc[64];
    ENTER();
    if (!pInfo)
        RETURN(CKR_ARGUMENTS_BAD);
    slots_scan();
    sl = slot_find(slotID);
    if (!sl)
        RETURN(CKR_SLOT_ID_INVALID);
    memset(pInfo, 0, sizeof(*pInfo));
    snprintf(desc, sizeof(desc), "SoftUKey slot %lu (%s)", (unsigned long)sl->id, sl->serial);
    pad(pInfo->slotDescription, 64, desc, strlen(desc));
    pad(pInfo->manufacturerID, 32, MANUFACTURER, strlen(MANUFACTURER));
    pInfo->flags = CKF_REMOVABLE_DEVICE | (sl->present ? CKF_TOKEN_PRESENT : 0);
    pInfo->hardwareVersion.major = 1;
    pInfo->firmwareVersion.major = 1;
    RETURN(CKR_OK);
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    slot_t *sl;
    suk_token *t;
    size_t n, rw;
    CK_FLAGS f;
    ENTER();
    if (!pInfo)
        RETURN(CKR_ARGUMENTS_BAD);
    slots_scan();
    sl = slot_find(slotID);
    if (!sl)
        RETURN(CKR_SLOT_ID_INVALID);
    if (!sl->present)
        RETURN(CKR_TOKEN_NOT_PRESENT);
    if (sl->corrupt || !sl->tok)
        RETURN(CKR_DEVICE_ERROR);
    t = sl->tok;
    memset(pInfo, 0, sizeof(*pInfo));
    pad(pInfo->label, 32, t->label, t->blank ? 0 : t->label_len);
    pad(pInfo->manufacturerID, 32, MANUFACTURER, strlen(MANUFACTURER));
    pad(pInfo->model, 16, t->model[0] ? t->model : DEFAULT_MODEL,
        strlen(t->model[0] ? t->model : DEFAULT_MODEL));
    pad(pInfo->serialNumber, 16, t->serial, strlen(t->serial));
    f = CKF_RNG | CKF_LOGIN_REQUIRED;
    if (!t->blank) {
        f |= CKF_TOKEN_INITIALIZED;
        if (t->has_user) {
            f |= CKF_USER_PIN_INITIALIZED;
            if (t->user_left == 0)
                f |= CKF_USER_PIN_LOCKED;
            else {
                if (t->user_left < t->user_max)
                    f |= CKF_USER_PIN_COUNT_LOW;
                if (t->user_left == 1)
                    f |= CKF_USER_PIN_FINAL_TRY;
            }
        }
        if (t->so_left == 0)
            f |= CKF_SO_PIN_LOCKED;
        else {
            if (t->so_left < t->so_max)
                f |= CKF_SO_PIN_COUNT_LOW;
            if (t->so_left == 1)
                f |= CKF_SO_PIN_FINAL_TRY;
        }
    }
    pInfo->flags = f;
    n = session_count(sl->id, &rw);
    pInfo->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
    pInfo->ulSessionCount = n;
    pInfo->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
    pInfo->ulRwSessionCount = rw;
    pInfo->ulMaxPinLen = SUK_MAX_PIN;
    pInfo->ulMinPinLen = SUK_MIN_PIN;
    pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->hardwareVersion.major = 1;
    pInfo->firmwareVersion.major = 1;
    memset(pInfo->utcTime, '0', 16);
    RETURN(CKR_OK);
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
    unsigned long gen;
    ENTER();
    if (!pSlot || pReserved)
        RETURN(CKR_ARGUMENTS_BAD);
    gen = g_gen;
    for (;;) {
        size_t i;
        struct timespec ts = {0, 200 * 1000 * 1000};
        slots_scan();
        for (i = 0; i < slot_count(); i++) {
            slot_t *sl = slot_at(i);
            if (sl->present != sl->reported) {
                sl->reported = sl->present;
                *pSlot = sl->id;
                RETURN(CKR_OK);
            }
        }
        if (flags & CKF_DONT_BLOCK)
            RETURN(CKR_NO_EVENT);
        UNLOCK();
        nanosleep(&ts, NULL);
        LOCK();
        if (!g_init || g_gen != gen) {
            UNLOCK();
            return CKR_CRYPTOKI_NOT_INITIALIZED;
        }
    }
}

static const struct {
    CK_MECHANISM_TYPE m;
    CK_ULONG min, max;
    CK_FLAGS f;
} g_mechs[] = {
    {CKM_SM2_KEY_PAIR_GEN, 256, 256, CKF_GENERATE_KEY_PAIR},
    {CKM_SM2_SM3, 256, 256, CKF_SIGN | CKF_VERIFY},
    {CKM_SM2_SM3_DER, 256, 256, CKF_SIGN | CKF_VERIFY},
    {CKM_SM2_DER, 256, 256, CKF_SIGN | CKF_VERIFY},
    {CKM_SM2, 256, 256, CKF_SIGN | CKF_VERIFY},
    {CKM_SM3, 0, 0, CKF_DIGEST},
};
#define NMECHS (sizeof(g_mechs) / sizeof(g_mechs[0]))

static CK_RV present_slot(CK_SLOT_ID id, slot_t **psl)
{
    slot_t *sl;
    slots_scan();
    sl = slot_find(id);
    if (!sl)
        return CKR_SLOT_ID_INVALID;
    if (!sl->present)
        return CKR_TOKEN_NOT_PRESENT;
    *psl = sl;
    return CKR_OK;
}

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pList, CK_ULONG_PTR pulCount)
{
    slot_t *sl;
    CK_RV rv;
    size_t i;
    ENTER();
    if (!pulCount)
        RETURN(CKR_ARGUMENTS_BAD);
    rv = present_slot(slotID, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pList) {
        *pulCount = NMECHS;
        RETURN(CKR_OK);
    }
    if (*pulCount < NMECHS) {
        *pulCount = NMECHS;
        RETURN(CKR_BUFFER_TOO_SMALL);
    }
    for (i = 0; i < NMECHS; i++)
        pList[i] = g_mechs[i].m;
    *pulCount = NMECHS;
    RETURN(CKR_OK);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    slot_t *sl;
    CK_RV rv;
    size_t i;
    ENTER();
    if (!pInfo)
        RETURN(CKR_ARGUMENTS_BAD);
    rv = present_slot(slotID, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    for (i = 0; i < NMECHS; i++)
        if (g_mechs[i].m == type) {
            pInfo->ulMinKeySize = g_mechs[i].min;
            pInfo->ulMaxKeySize = g_mechs[i].max;
            pInfo->flags = g_mechs[i].f;
            RETURN(CKR_OK);
        }
    RETURN(CKR_MECHANISM_INVALID);
}

/* ================================================================== */
/* PIN / token initialisation                                           */

static void make_aad(char *out, size_t n, const char *who, const suk_token *t)
{
    snprintf(out, n, "suk-tk|%s|%s|%s", who, t->serial, t->instance);
}

static int pin_len_ok(CK_ULONG l)
{
    return l >= SUK_MIN_PIN && l <= SUK_MAX_PIN;
}

/* unwrap TK with a PIN; 0 ok, -1 wrong PIN / error */
static int try_unwrap(const suk_token *t, int so, const unsigned char *pin, size_t pinlen,
                      unsigned char tk[SUK_TK_LEN])
{
    unsigned char kek[32];
    char aad[96];
    int rv;
    make_aad(aad, sizeof(aad), so ? "so" : "user", t);
    if (suk_kdf(pin, pinlen, so ? t->so_salt : t->user_salt, t->kdf_iter, kek) != 0)
        return -1;
    rv = suk_gcm_open(kek, (const unsigned char *)aad, strlen(aad), so ? t->so_wrap : t->user_wrap,
                      SUK_WRAP_LEN, tk);
    suk_cleanse(kek, sizeof(kek));
    return rv;
}

static int do_wrap(suk_token *t, int so, const unsigned char *pin, size_t pinlen,
                   const unsigned char tk[SUK_TK_LEN])
{
    unsigned char kek[32];
    char aad[96];
    unsigned char *salt = so ? t->so_salt : t->user_salt;
    int rv;
    if (suk_rand(salt, SUK_SALT_LEN) != 0)
        return -1;
    make_aad(aad, sizeof(aad), so ? "so" : "user", t);
    if (suk_kdf(pin, pinlen, salt, t->kdf_iter, kek) != 0)
        return -1;
    rv = suk_gcm_seal(kek, (const unsigned char *)aad, strlen(aad), tk, SUK_TK_LEN,
                      so ? t->so_wrap : t->user_wrap);
    suk_cleanse(kek, sizeof(kek));
    return rv;
}

/* verify a PIN against the file, maintaining the retry counter */
static CK_RV verify_pin(suk_token *t, int so, const unsigned char *pin, size_t pinlen,
                        unsigned char tk[SUK_TK_LEN], int *dirty)
{
    unsigned *left = so ? &t->so_left : &t->user_left;
    unsigned max = so ? t->so_max : t->user_max;
    if (!so && !t->has_user)
        return CKR_USER_PIN_NOT_INITIALIZED;
    if (*left == 0)
        return CKR_PIN_LOCKED;
    if (try_unwrap(t, so, pin, pinlen, tk) != 0) {
        (*left)--;
        *dirty = 1;
        return CKR_PIN_INCORRECT;
    }
    if (*left != max) {
        *left = max;
        *dirty = 1;
    }
    return CKR_OK;
}

typedef struct {
    const unsigned char *pin;
    size_t pinlen;
    const unsigned char *newpin;
    size_t newlen;
    int so;
    unsigned char tk[SUK_TK_LEN];
    const unsigned char *label;
} pin_ctx;

static CK_RV cb_init_token(slot_t *sl, suk_token *t, void *vctx, int *dirty)
{
    pin_ctx *c = vctx;
    unsigned char inst[8];
    size_t i, ll;
    unsigned user_max;
    CK_RV rv;
    (void)sl;
    user_max = t->blank ? SUK_DEFAULT_USER_TRIES : t->user_max;
    if (!t->blank) {
        rv = verify_pin(t, 1, c->pin, c->pinlen, c->tk, dirty);
        if (rv != CKR_OK)
            return rv;
    } else {
        t->next_uid = 1;
        if (!t->model[0])
            strcpy(t->model, DEFAULT_MODEL);
    }
    if (g_cfg.max_tries)
        user_max = g_cfg.max_tries;
    for (i = 0; i < t->nobjs; i++)
        suk_obj_clear(&t->objs[i]);
    free(t->objs);
    t->objs = NULL;
    t->nobjs = 0;
    t->blank = 0;
    if (suk_rand(inst, sizeof(inst)) != 0 || suk_rand(c->tk, SUK_TK_LEN) != 0)
        return CKR_FUNCTION_FAILED;
    for (i = 0; i < 8; i++)
        sprintf(t->instance + 2 * i, "%02x", inst[i]);
    t->kdf_iter = g_cfg.kdf_iter ? g_cfg.kdf_iter : SUK_DEFAULT_KDF_ITER;
    t->user_max = t->user_left = user_max;
    t->so_max = t->so_left = SUK_DEFAULT_SO_TRIES;
    t->has_user = 0;
    memset(t->user_salt, 0, sizeof(t->user_salt));
    memset(t->user_wrap, 0, sizeof(t->user_wrap));
    ll = 32;
    while (ll > 0 && (c->label[ll - 1] == ' ' || c->label[ll - 1] == 0))
        ll--;
    memcpy(t->label, c->label, ll);
    t->label_len = ll;
    if (do_wrap(t, 1, c->pin, c->pinlen, c->tk) != 0)
        return CKR_FUNCTION_FAILED;
    *dirty = 1;
    return CKR_OK;
}

CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel)
{
    slot_t *sl;
    pin_ctx c;
    CK_RV rv;
    ENTER();
    rv = present_slot(slotID, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!pPin || !pLabel)
        RETURN(CKR_ARGUMENTS_BAD);
    if (sl->corrupt || !sl->tok)
        RETURN(CKR_DEVICE_ERROR);
    if (!pin_len_ok(ulPinLen))
        RETURN(CKR_PIN_LEN_RANGE);
    if (session_count(sl->id, NULL))
        RETURN(CKR_SESSION_EXISTS);
    memset(&c, 0, sizeof(c));
    c.pin = pPin;
    c.pinlen = ulPinLen;
    c.label = pLabel;
    rv = token_mutate(sl, NULL, cb_init_token, &c);
    suk_cleanse(&c, sizeof(c));
    if (rv == CKR_OK && sl->tok) {
        slot_logout(sl);
        strcpy(sl->cur_instance, sl->tok->instance);
    }
    RETURN(rv);
}

static CK_RV cb_init_pin(slot_t *sl, suk_token *t, void *vctx, int *dirty)
{
    pin_ctx *c = vctx;
    if (do_wrap(t, 0, c->pin, c->pinlen, sl->tk) != 0)
        return CKR_FUNCTION_FAILED;
    t->has_user = 1;
    t->user_left = t->user_max; /* unblock */
    *dirty = 1;
    return CKR_OK;
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    session_t *s;
    slot_t *sl;
    pin_ctx c;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!(s->flags & CKF_RW_SESSION))
        RETURN(CKR_SESSION_READ_ONLY);
    if (!sl->logged_in || sl->login != CKU_SO)
        RETURN(CKR_USER_NOT_LOGGED_IN);
    if (!pPin)
        RETURN(CKR_ARGUMENTS_BAD);
    if (!pin_len_ok(ulPinLen))
        RETURN(CKR_PIN_LEN_RANGE);
    memset(&c, 0, sizeof(c));
    c.pin = pPin;
    c.pinlen = ulPinLen;
    rv = token_mutate(sl, sl->cur_instance, cb_init_pin, &c);
    RETURN(rv);
}

static CK_RV cb_set_pin(slot_t *sl, suk_token *t, void *vctx, int *dirty)
{
    pin_ctx *c = vctx;
    CK_RV rv;
    (void)sl;
    rv = verify_pin(t, c->so, c->pin, c->pinlen, c->tk, dirty);
    if (rv != CKR_OK)
        return rv;
    if (do_wrap(t, c->so, c->newpin, c->newlen, c->tk) != 0)
        return CKR_FUNCTION_FAILED;
    *dirty = 1;
    return CKR_OK;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
    session_t *s;
    slot_t *sl;
    pin_ctx c;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!(s->flags & CKF_RW_SESSION))
        RETURN(CKR_SESSION_READ_ONLY);
    if (!pOldPin || !pNewPin)
        RETURN(CKR_ARGUMENTS_BAD);
    if (!pin_len_ok(ulOldLen) || !pin_len_ok(ulNewLen))
        RETURN(CKR_PIN_LEN_RANGE);
    memset(&c, 0, sizeof(c));
    c.pin = pOldPin;
    c.pinlen = ulOldLen;
    c.newpin = pNewPin;
    c.newlen = ulNewLen;
    c.so = sl->logged_in && sl->login == CKU_SO;
    rv = token_mutate(sl, sl->cur_instance, cb_set_pin, &c);
    suk_cleanse(&c, sizeof(c));
    RETURN(rv);
}

/* ================================================================== */
/* Sessions                                                             */

CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
    slot_t *sl;
    CK_RV rv;
    (void)pApplication;
    (void)Notify;
    ENTER();
    if (!phSession)
        RETURN(CKR_ARGUMENTS_BAD);
    if (!(flags & CKF_SERIAL_SESSION))
        RETURN(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    rv = present_slot(slotID, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (sl->corrupt || !sl->tok)
        RETURN(CKR_DEVICE_ERROR);
    if (sl->tok->blank)
        RETURN(CKR_TOKEN_NOT_RECOGNIZED);
    if (sl->logged_in && sl->login == CKU_SO && !(flags & CKF_RW_SESSION))
        RETURN(CKR_SESSION_READ_WRITE_SO_EXISTS);
    RETURN(session_new(sl, flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION), phSession));
}

CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
    ENTER();
    if (!session_find(hSession))
        RETURN(CKR_SESSION_HANDLE_INVALID);
    session_close(hSession);
    RETURN(CKR_OK);
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
    slot_t *sl;
    ENTER();
    sl = slot_find(slotID);
    if (!sl)
        RETURN(CKR_SLOT_ID_INVALID);
    slot_close_all(sl);
    RETURN(CKR_OK);
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    int rw;
    ENTER();
    if (!pInfo)
        RETURN(CKR_ARGUMENTS_BAD);
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    rw = (s->flags & CKF_RW_SESSION) != 0;
    pInfo->slotID = sl->id;
    pInfo->flags = s->flags;
    pInfo->ulDeviceError = 0;
    if (sl->logged_in && sl->login == CKU_SO)
        pInfo->state = CKS_RW_SO_FUNCTIONS;
    else if (sl->logged_in && sl->login == CKU_USER)
        pInfo->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    else
        pInfo->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    RETURN(CKR_OK);
}

static CK_RV cb_login(slot_t *sl, suk_token *t, void *vctx, int *dirty)
{
    pin_ctx *c = vctx;
    (void)sl;
    return verify_pin(t, c->so, c->pin, c->pinlen, c->tk, dirty);
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    session_t *s;
    slot_t *sl;
    pin_ctx c;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (userType != CKU_USER && userType != CKU_SO)
        RETURN(userType == CKU_CONTEXT_SPECIFIC ? CKR_OPERATION_NOT_INITIALIZED : CKR_USER_TYPE_INVALID);
    if (sl->logged_in)
        RETURN(sl->login == userType ? CKR_USER_ALREADY_LOGGED_IN : CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    if (!pPin)
        RETURN(CKR_ARGUMENTS_BAD);
    if (userType == CKU_SO) {
        size_t rw = 0, n = session_count(sl->id, &rw);
        if (n != rw)
            RETURN(CKR_SESSION_READ_ONLY_EXISTS);
    } else if (!sl->tok->has_user) {
        RETURN(CKR_USER_PIN_NOT_INITIALIZED);
    }
    if (!pin_len_ok(ulPinLen))
        RETURN(CKR_PIN_LEN_RANGE);
    memset(&c, 0, sizeof(c));
    c.pin = pPin;
    c.pinlen = ulPinLen;
    c.so = userType == CKU_SO;
    rv = token_mutate(sl, sl->cur_instance, cb_login, &c);
    if (rv == CKR_OK) {
        memcpy(sl->tk, c.tk, SUK_TK_LEN);
        sl->logged_in = 1;
        sl->login = userType;
    }
    suk_cleanse(&c, sizeof(c));
    RETURN(rv);
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
    session_t *s;
    slot_t *sl;
    CK_RV rv;
    ENTER();
    rv = session_get(hSession, &s, &sl);
    if (rv != CKR_OK)
        RETURN(rv);
    if (!sl->logged_in)
        RETURN(CKR_USER_NOT_LOGGED_IN);
    slot_logout(sl);
    RETURN(CKR_OK);
}

/* ================================================================== */
/* Not supported                                                        */

CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG_PTR l)
{
    (void)h; (void)p; (void)l;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG l, CK_OBJECT_HANDLE a, CK_OBJECT_HANDLE b)
{
    (void)h; (void)p; (void)l; (void)a; (void)b;
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
    (void)h;
    return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE h)
{
    (void)h;
    return CKR_FUNCTION_NOT_PARALLEL;
}
