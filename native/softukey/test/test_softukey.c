/*
 * test_softukey.c - functional test of libsoftukey.so as a real PKCS#11
 * consumer (dlopen + C_GetFunctionList). Prints "N passed, M failed".
 */
#include "common.h"
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <openssl/x509.h>
#include <openssl/rand.h>

static int npass, nfail;
static char g_dir[256];
static int g_valgrind;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            npass++;                                                           \
        } else {                                                               \
            nfail++;                                                           \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                        \
            printf(__VA_ARGS__);                                               \
            printf("\n");                                                      \
        }                                                                      \
    } while (0)
#define CK(expr, expect)                                                       \
    do {                                                                       \
        CK_RV _r = (expr);                                                     \
        CHECK(_r == (CK_RV)(expect), "%s -> 0x%lx, expected %s (0x%lx)", #expr, \
              (unsigned long)_r, #expect, (unsigned long)(expect));            \
    } while (0)

static const CK_BBOOL T = CK_TRUE, FALSE_ = CK_FALSE;
static const unsigned char SM2_OID[] = {0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D};
static const unsigned char P256_OID[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
static CK_OBJECT_CLASS C_PRIV = CKO_PRIVATE_KEY, C_PUB = CKO_PUBLIC_KEY, C_CERT = CKO_CERTIFICATE,
                       C_DATA = CKO_DATA;
static CK_KEY_TYPE K_SM2 = CKK_SM2;
static CK_CERTIFICATE_TYPE X509T = CKC_X_509;

#define SO_PIN "12345678"
#define USER_PIN "123456"

/* ------------------------------------------------------------------ */

static void path_of(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", g_dir, name);
}

static void write_file(const char *name, const char *content)
{
    char p[512];
    FILE *f;
    path_of(name, p, sizeof(p));
    f = fopen(p, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

static char *read_file_str(const char *name)
{
    char p[512];
    FILE *f;
    long n;
    char *b;
    path_of(name, p, sizeof(p));
    f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = calloc(1, (size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void rename_file(const char *a, const char *b)
{
    char pa[512], pb[512];
    path_of(a, pa, sizeof(pa));
    path_of(b, pb, sizeof(pb));
    rename(pa, pb);
}

static CK_SLOT_ID slot_of(const char *serial)
{
    CK_SLOT_ID list[64];
    CK_ULONG n = 64, i;
    if (F->C_GetSlotList(CK_TRUE, list, &n) != CKR_OK)
        return (CK_SLOT_ID)-1;
    for (i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        char s[17];
        if (F->C_GetTokenInfo(list[i], &ti) != CKR_OK)
            continue;
        memcpy(s, ti.serialNumber, 16);
        s[16] = 0;
        while (strlen(s) && s[strlen(s) - 1] == ' ')
            s[strlen(s) - 1] = 0;
        if (!strcmp(s, serial))
            return list[i];
    }
    return (CK_SLOT_ID)-1;
}

static CK_FLAGS tok_flags(CK_SLOT_ID slot)
{
    CK_TOKEN_INFO ti;
    if (F->C_GetTokenInfo(slot, &ti) != CKR_OK)
        return 0;
    return ti.flags;
}

static CK_SESSION_HANDLE open_s(CK_SLOT_ID slot, int rw)
{
    CK_SESSION_HANDLE h = 0;
    CK_RV rv = F->C_OpenSession(slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL, &h);
    CHECK(rv == CKR_OK, "C_OpenSession(slot %lu) -> 0x%lx", (unsigned long)slot, (unsigned long)rv);
    return h;
}

static CK_RV login(CK_SESSION_HANDLE h, CK_USER_TYPE u, const char *pin)
{
    return F->C_Login(h, u, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

static void label32(const char *l, CK_UTF8CHAR out[32])
{
    memset(out, ' ', 32);
    memcpy(out, l, strlen(l));
}

/* provision a token the way the `softukey init` CLI does */
static CK_SLOT_ID provision(const char *file, const char *serial, const char *label)
{
    char line[128];
    CK_UTF8CHAR lab[32];
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE h;
    snprintf(line, sizeof(line), "SOFTUKEY-BLANK serial=%s\n", serial);
    write_file(file, line);
    slot = slot_of(serial);
    CHECK(slot != (CK_SLOT_ID)-1, "blank token %s visible", serial);
    label32(label, lab);
    CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)SO_PIN, 8, lab), CKR_OK);
    h = open_s(slot, 1);
    CK(login(h, CKU_SO, SO_PIN), CKR_OK);
    CK(F->C_InitPIN(h, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    CK(F->C_CloseSession(h), CKR_OK);
    return slot;
}

static CK_RV get_attr(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, void *buf, CK_ULONG *len)
{
    CK_ATTRIBUTE a;
    CK_RV rv;
    a.type = t;
    a.pValue = buf;
    a.ulValueLen = *len;
    rv = F->C_GetAttributeValue(h, o, &a, 1);
    *len = a.ulValueLen;
    return rv;
}

static CK_ULONG find_all(CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out, CK_ULONG max)
{
    CK_ULONG cnt = 0;
    if (F->C_FindObjectsInit(h, t, n) != CKR_OK)
        return (CK_ULONG)-1;
    F->C_FindObjects(h, out, max, &cnt);
    F->C_FindObjectsFinal(h);
    return cnt;
}

static int genkey(CK_SESSION_HANDLE h, const char *label, const char *id, CK_BBOOL token, CK_OBJECT_HANDLE *pub,
                  CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_SM2_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {
        {CKA_TOKEN, &token, 1}, {CKA_LABEL, (void *)label, strlen(label)}, {CKA_ID, (void *)id, strlen(id)},
        {CKA_VERIFY, (void *)&T, 1}, {CKA_EC_PARAMS, (void *)SM2_OID, sizeof(SM2_OID)}};
    CK_ATTRIBUTE vt[] = {
        {CKA_TOKEN, &token, 1}, {CKA_LABEL, (void *)label, strlen(label)}, {CKA_ID, (void *)id, strlen(id)},
        {CKA_SIGN, (void *)&T, 1}, {CKA_PRIVATE, (void *)&T, 1}, {CKA_SENSITIVE, (void *)&T, 1}};
    CK_RV rv = F->C_GenerateKeyPair(h, &m, pt, 5, vt, 6, pub, priv);
    CHECK(rv == CKR_OK, "C_GenerateKeyPair(%s) -> 0x%lx", label, (unsigned long)rv);
    return rv == CKR_OK ? 0 : -1;
}

static int get_point(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, unsigned char pub[65])
{
    unsigned char buf[80];
    CK_ULONG l = sizeof(buf);
    if (get_attr(h, o, CKA_EC_POINT, buf, &l) != CKR_OK || l != 67 || buf[0] != 4 || buf[1] != 0x41)
        return -1;
    memcpy(pub, buf + 2, 65);
    return 0;
}

static CK_RV sign(CK_SESSION_HANDLE h, CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, CK_OBJECT_HANDLE k,
                  const void *data, CK_ULONG dlen, unsigned char *sig, CK_ULONG *slen)
{
    CK_MECHANISM m = {mt, (void *)param, plen};
    CK_RV rv = F->C_SignInit(h, &m, k);
    if (rv != CKR_OK)
        return rv;
    return F->C_Sign(h, (CK_BYTE_PTR)data, dlen, sig, slen);
}

static CK_RV verify(CK_SESSION_HANDLE h, CK_MECHANISM_TYPE mt, const void *param, CK_ULONG plen, CK_OBJECT_HANDLE k,
                    const void *data, CK_ULONG dlen, const unsigned char *sig, CK_ULONG slen)
{
    CK_MECHANISM m = {mt, (void *)param, plen};
    CK_RV rv = F->C_VerifyInit(h, &m, k);
    if (rv != CKR_OK)
        return rv;
    return F->C_Verify(h, (CK_BYTE_PTR)data, dlen, (CK_BYTE_PTR)sig, slen);
}

static void restart(void)
{
    CK(F->C_Finalize(NULL), CKR_OK);
    lib_unload();
    if (lib_load() != 0) {
        printf("FATAL: reload failed\n");
        exit(2);
    }
    CK(F->C_Initialize(NULL), CKR_OK);
}

/* ================================================================== */

static void t_init(void)
{
    CK_C_INITIALIZE_ARGS a;
    CK_INFO info;
    CK_ULONG n;
    CK(F->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK(F->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK(F->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK(F->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK(F->C_GetFunctionList(NULL), CKR_ARGUMENTS_BAD);
    memset(&a, 0, sizeof(a));
    a.pReserved = &a;
    CK(F->C_Initialize(&a), CKR_ARGUMENTS_BAD);
    memset(&a, 0, sizeof(a));
    a.CreateMutex = (CK_CREATEMUTEX)1; /* partial set of mutex functions */
    CK(F->C_Initialize(&a), CKR_ARGUMENTS_BAD);
    memset(&a, 0, sizeof(a));
    a.flags = CKF_OS_LOCKING_OK;
    CK(F->C_Initialize(&a), CKR_OK);
    CK(F->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    CK(F->C_Finalize(&a), CKR_ARGUMENTS_BAD);
    CK(F->C_Finalize(NULL), CKR_OK);
    CK(F->C_Initialize(NULL), CKR_OK);
    CK(F->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_GetInfo(&info), CKR_OK);
    CHECK(info.cryptokiVersion.major == 2 && info.cryptokiVersion.minor == 40, "cryptoki version 2.40");
    CHECK(!memcmp(info.manufacturerID, "SoftUKey (DEV ONLY)", 19), "manufacturer");
    CHECK(F->version.major == 2 && F->version.minor == 40, "function list version");
    CK(F->C_GetSlotList(CK_FALSE, NULL, NULL), CKR_ARGUMENTS_BAD);
    n = 99;
    CK(F->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
    CHECK(n == 0, "empty dir has no tokens (n=%lu)", (unsigned long)n);
}

static CK_SLOT_ID g_slotA;

static void t_blank_and_init(void)
{
    CK_SLOT_ID slot, list[4];
    CK_TOKEN_INFO ti;
    CK_SLOT_INFO si;
    CK_ULONG n;
    CK_UTF8CHAR lab[32];
    CK_SESSION_HANDLE h, h2, h3;
    CK_SESSION_INFO sinfo;
    char *content;

    write_file("alpha.suk", "SOFTUKEY-BLANK serial=UK0000000001 model=GM3000\n");
    n = 4;
    CK(F->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
    CHECK(n == 1, "one token after plug (n=%lu)", (unsigned long)n);
    slot = list[0];
    g_slotA = slot;
    CK(F->C_GetSlotInfo(slot, &si), CKR_OK);
    CHECK(si.flags & CKF_TOKEN_PRESENT, "slot has token");
    CHECK(si.flags & CKF_REMOVABLE_DEVICE, "removable");
    CK(F->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(!memcmp(ti.serialNumber, "UK0000000001    ", 16), "serial padded");
    CHECK(!memcmp(ti.model, "GM3000          ", 16), "blank model override");
    CHECK(!memcmp(ti.manufacturerID, "SoftUKey (DEV ONLY)             ", 32), "manufacturer padded");
    CHECK(!(ti.flags & CKF_TOKEN_INITIALIZED), "blank is not initialized");
    CHECK(ti.flags & CKF_RNG, "rng flag");
    CHECK(ti.ulMinPinLen == 4 && ti.ulMaxPinLen == 32, "pin len range");
    CK(F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_TOKEN_NOT_RECOGNIZED);

    label32("Alpha Key", lab);
    CK(F->C_InitToken(slot, NULL, 8, lab), CKR_ARGUMENTS_BAD);
    CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)SO_PIN, 8, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)"123", 3, lab), CKR_PIN_LEN_RANGE);
    CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)"123456789012345678901234567890123", 33, lab), CKR_PIN_LEN_RANGE);
    CK(F->C_InitToken(9999, (CK_UTF8CHAR_PTR)SO_PIN, 8, lab), CKR_SLOT_ID_INVALID);
    CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)SO_PIN, 8, lab), CKR_OK);
    CK(F->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_TOKEN_INITIALIZED, "initialized");
    CHECK(ti.flags & CKF_LOGIN_REQUIRED, "login required");
    CHECK(!(ti.flags & CKF_USER_PIN_INITIALIZED), "user pin not yet initialized");
    CHECK(!memcmp(ti.label, "Alpha Key                       ", 32), "label");
    CHECK(!memcmp(ti.model, "GM3000          ", 16), "model kept after init");
    content = read_file_str("alpha.suk");
    CHECK(content && !strncmp(content, "SOFTUKEY-TOKEN 1\n", 17), "file rewritten in token format");
    CHECK(content && strstr(content, "kdf_iter=1000\n"), "kdf iteration from env stored");
    free(content);

    /* sessions and PIN initialisation */
    CK(F->C_OpenSession(slot, 0, NULL, NULL, &h), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    CK(F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_OpenSession(12345, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_SLOT_ID_INVALID);
    h = open_s(slot, 0);
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_OK);
    CHECK(sinfo.state == CKS_RO_PUBLIC_SESSION && sinfo.slotID == slot, "RO public state");
    CK(F->C_GetSessionInfo(h, NULL), CKR_ARGUMENTS_BAD);
    CK(login(h, CKU_USER, USER_PIN), CKR_USER_PIN_NOT_INITIALIZED);
    CK(login(h, CKU_SO, SO_PIN), CKR_SESSION_READ_ONLY_EXISTS);
    CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)SO_PIN, 8, lab), CKR_SESSION_EXISTS);
    CK(F->C_CloseSession(h), CKR_OK);
    CK(F->C_CloseSession(h), CKR_SESSION_HANDLE_INVALID);
    h = open_s(slot, 1);
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_OK);
    CHECK(sinfo.state == CKS_RW_PUBLIC_SESSION, "RW public state");
    CK(F->C_InitPIN(h, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_USER_NOT_LOGGED_IN);
    CK(login(h, 77, SO_PIN), CKR_USER_TYPE_INVALID);
    CK(F->C_Login(h, CKU_SO, NULL, 8), CKR_ARGUMENTS_BAD);
    CK(login(h, CKU_SO, "87654321"), CKR_PIN_INCORRECT);
    CHECK(tok_flags(slot) & CKF_SO_PIN_COUNT_LOW, "SO count low after wrong SO PIN");
    CK(login(h, CKU_SO, SO_PIN), CKR_OK);
    CHECK(!(tok_flags(slot) & CKF_SO_PIN_COUNT_LOW), "SO count reset");
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_OK);
    CHECK(sinfo.state == CKS_RW_SO_FUNCTIONS, "RW SO state");
    CK(F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h2), CKR_SESSION_READ_WRITE_SO_EXISTS);
    CK(login(h, CKU_SO, SO_PIN), CKR_USER_ALREADY_LOGGED_IN);
    CK(login(h, CKU_USER, USER_PIN), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    CK(F->C_InitPIN(h, NULL, 6), CKR_ARGUMENTS_BAD);
    CK(F->C_InitPIN(h, (CK_UTF8CHAR_PTR)"123", 3), CKR_PIN_LEN_RANGE);
    CK(F->C_InitPIN(h, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_OK);
    CHECK(tok_flags(slot) & CKF_USER_PIN_INITIALIZED, "user pin initialized");
    CK(F->C_Logout(h), CKR_OK);
    CK(F->C_Logout(h), CKR_USER_NOT_LOGGED_IN);

    /* user login shared by all sessions */
    h2 = open_s(slot, 0);
    CK(login(h, CKU_USER, "1234"), CKR_PIN_INCORRECT);
    CK(login(h, CKU_USER, "12"), CKR_PIN_LEN_RANGE);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    CK(F->C_GetSessionInfo(h2, &sinfo), CKR_OK);
    CHECK(sinfo.state == CKS_RO_USER_FUNCTIONS, "RO user state on other session");
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_OK);
    CHECK(sinfo.state == CKS_RW_USER_FUNCTIONS, "RW user state");
    CK(F->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.ulSessionCount == 2 && ti.ulRwSessionCount == 1, "session counts %lu/%lu",
          (unsigned long)ti.ulSessionCount, (unsigned long)ti.ulRwSessionCount);
    h3 = open_s(slot, 0);
    CK(F->C_CloseAllSessions(slot), CKR_OK);
    CK(F->C_GetSessionInfo(h3, &sinfo), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_CloseAllSessions(4242), CKR_SLOT_ID_INVALID);
    /* all sessions closed -> logged out */
    h = open_s(slot, 0);
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_OK);
    CHECK(sinfo.state == CKS_RO_PUBLIC_SESSION, "logged out after all sessions closed");
    CK(F->C_CloseSession(h), CKR_OK);
}

static void t_mechs(void)
{
    CK_MECHANISM_TYPE m[16];
    CK_MECHANISM_INFO mi;
    CK_ULONG n = 0;
    CK(F->C_GetMechanismList(g_slotA, NULL, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_GetMechanismList(g_slotA, NULL, &n), CKR_OK);
    CHECK(n == 6, "6 mechanisms");
    n = 2;
    CK(F->C_GetMechanismList(g_slotA, m, &n), CKR_BUFFER_TOO_SMALL);
    CHECK(n == 6, "needed count returned");
    n = 16;
    CK(F->C_GetMechanismList(g_slotA, m, &n), CKR_OK);
    CHECK(m[0] == CKM_SM2_KEY_PAIR_GEN && m[5] == CKM_SM3, "mechanism list content");
    CK(F->C_GetMechanismList(999, m, &n), CKR_SLOT_ID_INVALID);
    CK(F->C_GetMechanismInfo(g_slotA, CKM_SM2_SM3, &mi), CKR_OK);
    CHECK(mi.flags == (CKF_SIGN | CKF_VERIFY) && mi.ulMinKeySize == 256, "SM2_SM3 info");
    CK(F->C_GetMechanismInfo(g_slotA, CKM_SM2_KEY_PAIR_GEN, &mi), CKR_OK);
    CHECK(mi.flags == CKF_GENERATE_KEY_PAIR, "keygen info");
    CK(F->C_GetMechanismInfo(g_slotA, CKM_SM3, &mi), CKR_OK);
    CHECK(mi.flags == CKF_DIGEST, "digest info");
    CK(F->C_GetMechanismInfo(g_slotA, CKM_SM2_DER, &mi), CKR_OK);
    CK(F->C_GetMechanismInfo(g_slotA, CKM_SM2, &mi), CKR_OK);
    CK(F->C_GetMechanismInfo(g_slotA, CKM_SM2_SM3_DER, &mi), CKR_OK);
    CK(F->C_GetMechanismInfo(g_slotA, CKM_RSA_PKCS, &mi), CKR_MECHANISM_INVALID);
    CK(F->C_GetMechanismInfo(g_slotA, CKM_SM3, NULL), CKR_ARGUMENTS_BAD);
}

static CK_OBJECT_HANDLE g_pub, g_priv;

static void t_keygen_and_attrs(void)
{
    CK_SESSION_HANDLE ro, rw;
    CK_MECHANISM m = {CKM_SM2_KEY_PAIR_GEN, NULL, 0}, bad = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE pub, priv, spub, spriv;
    CK_ATTRIBUTE pt[4], vt[2];
    unsigned char buf[256];
    CK_ULONG l, cls, kt;
    CK_BBOOL b;
    CK_ULONG four = 1;
    CK_ATTRIBUTE multi[4];
    unsigned char lab[32], id[32], pt1[65];
    CK_ATTRIBUTE_TYPE local = CKA_LOCAL;
    (void)local;

    ro = open_s(g_slotA, 0);
    rw = open_s(g_slotA, 1);
    CK(F->C_GenerateKeyPair(rw, &m, NULL, 0, NULL, 0, &pub, &priv), CKR_USER_NOT_LOGGED_IN);
    CK(login(rw, CKU_USER, USER_PIN), CKR_OK);
    CK(F->C_GenerateKeyPair(rw, &bad, NULL, 0, NULL, 0, &pub, &priv), CKR_MECHANISM_INVALID);
    CK(F->C_GenerateKeyPair(rw, NULL, NULL, 0, NULL, 0, &pub, &priv), CKR_ARGUMENTS_BAD);
    CK(F->C_GenerateKeyPair(rw, &m, NULL, 0, NULL, 0, NULL, &priv), CKR_ARGUMENTS_BAD);
    CK(F->C_GenerateKeyPair(rw, &m, NULL, 2, NULL, 0, &pub, &priv), CKR_ARGUMENTS_BAD);
    pt[0].type = CKA_EC_PARAMS; pt[0].pValue = (void *)P256_OID; pt[0].ulValueLen = sizeof(P256_OID);
    CK(F->C_GenerateKeyPair(rw, &m, pt, 1, NULL, 0, &pub, &priv), CKR_ATTRIBUTE_VALUE_INVALID);
    pt[0].type = CKA_CLASS; pt[0].pValue = &C_PRIV; pt[0].ulValueLen = sizeof(C_PRIV);
    CK(F->C_GenerateKeyPair(rw, &m, pt, 1, NULL, 0, &pub, &priv), CKR_TEMPLATE_INCONSISTENT);
    pt[0].type = CKA_TOKEN; pt[0].pValue = &four; pt[0].ulValueLen = sizeof(four);
    CK(F->C_GenerateKeyPair(rw, &m, pt, 1, NULL, 0, &pub, &priv), CKR_ATTRIBUTE_VALUE_INVALID);
    pt[0].type = CKA_MODULUS; pt[0].pValue = buf; pt[0].ulValueLen = 4;
    CK(F->C_GenerateKeyPair(rw, &m, pt, 1, NULL, 0, &pub, &priv), CKR_ATTRIBUTE_TYPE_INVALID);
    pt[0].type = CKA_LOCAL; pt[0].pValue = (void *)&T; pt[0].ulValueLen = 1;
    CK(F->C_GenerateKeyPair(rw, &m, NULL, 0, pt, 1, &pub, &priv), CKR_ATTRIBUTE_READ_ONLY);
    vt[0].type = CKA_EXTRACTABLE; vt[0].pValue = (void *)&T; vt[0].ulValueLen = 1;
    CK(F->C_GenerateKeyPair(rw, &m, NULL, 0, vt, 1, &pub, &priv), CKR_ATTRIBUTE_VALUE_INVALID);
    vt[0].type = CKA_PRIVATE; vt[0].pValue = (void *)&FALSE_; vt[0].ulValueLen = 1;
    CK(F->C_GenerateKeyPair(rw, &m, NULL, 0, vt, 1, &pub, &priv), CKR_TEMPLATE_INCONSISTENT);
    pt[0].type = CKA_TOKEN; pt[0].pValue = (void *)&T; pt[0].ulValueLen = 1;
    CK(F->C_GenerateKeyPair(ro, &m, pt, 1, NULL, 0, &pub, &priv), CKR_SESSION_READ_ONLY);

    if (genkey(rw, "sign-key", "K1", CK_TRUE, &pub, &priv))
        return;
    g_pub = pub;
    g_priv = priv;
    /* session keypair in RO session is fine */
    if (genkey(ro, "session-key", "S1", CK_FALSE, &spub, &spriv))
        return;

    l = sizeof(cls);
    CK(get_attr(ro, priv, CKA_CLASS, &cls, &l), CKR_OK);
    CHECK(cls == CKO_PRIVATE_KEY, "priv class");
    l = sizeof(kt);
    CK(get_attr(ro, priv, CKA_KEY_TYPE, &kt, &l), CKR_OK);
    CHECK(kt == CKK_SM2 && l == sizeof(CK_ULONG), "priv key type CKK_SM2");
    l = sizeof(kt);
    CK(get_attr(ro, pub, CKA_KEY_TYPE, &kt, &l), CKR_OK);
    CHECK(kt == CKK_SM2, "pub key type");
    l = sizeof(buf);
    CK(get_attr(ro, pub, CKA_EC_PARAMS, buf, &l), CKR_OK);
    CHECK(l == 10 && !memcmp(buf, SM2_OID, 10), "EC params = SM2 OID");
    l = sizeof(buf);
    CK(get_attr(ro, pub, CKA_EC_POINT, buf, &l), CKR_OK);
    CHECK(l == 67 && buf[0] == 0x04 && buf[1] == 0x41 && buf[2] == 0x04, "EC point DER octet string");
    CHECK(get_point(ro, pub, pt1) == 0, "point");
    {
        unsigned char p2[65];
        CHECK(get_point(ro, priv, p2) == 0 && !memcmp(pt1, p2, 65), "private key carries the same point");
    }
    l = sizeof(buf);
    CK(get_attr(ro, pub, CKA_PUBLIC_KEY_INFO, buf, &l), CKR_OK);
    {
        const unsigned char *p = buf;
        EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)l);
        CHECK(k != NULL && EVP_PKEY_is_a(k, "SM2"), "CKA_PUBLIC_KEY_INFO parses as SM2 SPKI");
        EVP_PKEY_free(k);
    }
    l = sizeof(buf);
    CK(get_attr(ro, priv, CKA_VALUE, buf, &l), CKR_ATTRIBUTE_SENSITIVE);
    CHECK(l == CK_UNAVAILABLE_INFORMATION, "sensitive value length unavailable");
    l = 0;
    CK(get_attr(ro, priv, CKA_VALUE, NULL, &l), CKR_ATTRIBUTE_SENSITIVE);
    l = 1;
#define BOOLA(o, t, want)                                                              \
    do {                                                                               \
        l = 1;                                                                         \
        b = 9;                                                                         \
        CK(get_attr(ro, o, t, &b, &l), CKR_OK);                                        \
        CHECK(l == 1 && b == (want), #t " == %d (got %d)", want, b);                   \
    } while (0)
    BOOLA(priv, CKA_SENSITIVE, 1);
    BOOLA(priv, CKA_EXTRACTABLE, 0);
    BOOLA(priv, CKA_PRIVATE, 1);
    BOOLA(priv, CKA_TOKEN, 1);
    BOOLA(priv, CKA_LOCAL, 1);
    BOOLA(priv, CKA_SIGN, 1);
    BOOLA(priv, CKA_ALWAYS_SENSITIVE, 1);
    BOOLA(priv, CKA_NEVER_EXTRACTABLE, 1);
    BOOLA(pub, CKA_VERIFY, 1);
    BOOLA(pub, CKA_PRIVATE, 0);
    BOOLA(pub, CKA_TOKEN, 1);
    BOOLA(spub, CKA_TOKEN, 0);
    /* multi-attribute semantics (PKCS#11 v2.40 5.2) */
    multi[0].type = CKA_LABEL; multi[0].pValue = NULL; multi[0].ulValueLen = 0;
    multi[1].type = CKA_MODULUS; multi[1].pValue = buf; multi[1].ulValueLen = sizeof(buf);
    multi[2].type = CKA_ID; multi[2].pValue = id; multi[2].ulValueLen = 1;
    multi[3].type = CKA_EC_PARAMS; multi[3].pValue = buf + 100; multi[3].ulValueLen = 50;
    {
        CK_RV rv = F->C_GetAttributeValue(ro, pub, multi, 4);
        CHECK(rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL, "multi rv 0x%lx", (unsigned long)rv);
    }
    CHECK(multi[0].ulValueLen == 8, "label length query");
    CHECK(multi[1].ulValueLen == CK_UNAVAILABLE_INFORMATION, "invalid attr -> -1");
    CHECK(multi[2].ulValueLen == CK_UNAVAILABLE_INFORMATION, "short buffer -> -1");
    CHECK(multi[3].ulValueLen == 10 && !memcmp(buf + 100, SM2_OID, 10), "other attrs still returned");
    l = 3;
    CK(get_attr(ro, pub, CKA_LABEL, lab, &l), CKR_BUFFER_TOO_SMALL);
    CHECK(l == CK_UNAVAILABLE_INFORMATION, "buffer too small sets -1");
    CK(F->C_GetAttributeValue(ro, pub, NULL, 1), CKR_ARGUMENTS_BAD);
    CK(F->C_GetAttributeValue(ro, 0xdead, multi, 1), CKR_OBJECT_HANDLE_INVALID);
    CK(F->C_GetAttributeValue(0xdead, pub, multi, 1), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_GetAttributeValue(ro, pub, multi, 0), CKR_OK);
    l = sizeof(lab);
    CK(get_attr(ro, pub, CKA_LABEL, lab, &l), CKR_OK);
    CHECK(l == 8 && !memcmp(lab, "sign-key", 8), "label");
    CK(F->C_GetObjectSize(ro, pub, &l), CKR_OK);
    CHECK(l > 100, "object size");
    CK(F->C_GetObjectSize(ro, pub, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_GetObjectSize(ro, 0, &l), CKR_OBJECT_HANDLE_INVALID);

    /* session objects disappear with their session */
    CK(F->C_CloseSession(ro), CKR_OK);
    l = sizeof(cls);
    CK(get_attr(rw, spub, CKA_CLASS, &cls, &l), CKR_OBJECT_HANDLE_INVALID);
    CK(F->C_Logout(rw), CKR_OK);
    CK(F->C_CloseSession(rw), CKR_OK);
}

static void t_find(void)
{
    CK_SESSION_HANDLE h = open_s(g_slotA, 0);
    CK_OBJECT_HANDLE o[16], o2[16];
    CK_ULONG n, cnt;
    CK_ATTRIBUTE t[2];
    CK_ATTRIBUTE_TYPE bogus = 0x7777;

    t[0].type = CKA_CLASS; t[0].pValue = &C_PRIV; t[0].ulValueLen = sizeof(C_PRIV);
    n = find_all(h, t, 1, o, 16);
    CHECK(n == 0, "private key invisible without login (%lu)", (unsigned long)n);
    t[0].pValue = &C_PUB;
    n = find_all(h, t, 1, o, 16);
    CHECK(n == 1 && o[0] == g_pub, "public key visible without login, stable handle");
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    t[0].pValue = &C_PRIV;
    n = find_all(h, t, 1, o, 16);
    CHECK(n == 1 && o[0] == g_priv, "private key visible after login");
    t[1].type = CKA_ID; t[1].pValue = "K1"; t[1].ulValueLen = 2;
    n = find_all(h, t, 2, o, 16);
    CHECK(n == 1, "find by class+id");
    t[1].ulValueLen = 1;
    n = find_all(h, t, 2, o, 16);
    CHECK(n == 0, "byte-exact match (prefix doesn't match)");
    t[0].type = CKA_LABEL; t[0].pValue = "sign-key"; t[0].ulValueLen = 8;
    n = find_all(h, t, 1, o, 16);
    CHECK(n == 2, "find by label -> pub+priv (%lu)", (unsigned long)n);
    t[0].type = bogus;
    n = find_all(h, t, 1, o, 16);
    CHECK(n == 0, "unknown attribute matches nothing");
    n = find_all(h, NULL, 0, o, 16);
    CHECK(n == 3, "empty template lists all, incl. the PIN counter object (%lu)", (unsigned long)n);
    /* paging */
    CK(F->C_FindObjectsInit(h, NULL, 0), CKR_OK);
    CK(F->C_FindObjectsInit(h, NULL, 0), CKR_OPERATION_ACTIVE);
    CK(F->C_FindObjects(h, o2, 1, &cnt), CKR_OK);
    CHECK(cnt == 1, "page 1");
    CK(F->C_FindObjects(h, o2 + 1, 1, &cnt), CKR_OK);
    CHECK(cnt == 1, "page 2");
    CK(F->C_FindObjects(h, o2 + 2, 1, &cnt), CKR_OK);
    CHECK(cnt == 1, "page 3");
    CK(F->C_FindObjects(h, o2 + 3, 1, &cnt), CKR_OK);
    CHECK(cnt == 0, "end");
    CK(F->C_FindObjects(h, o2, 1, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_FindObjectsFinal(h), CKR_OK);
    CK(F->C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_FindObjects(h, o2, 1, &cnt), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_FindObjectsInit(h, NULL, 3), CKR_ARGUMENTS_BAD);
    CK(F->C_FindObjectsInit(0, NULL, 0), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_CloseSession(h), CKR_OK);
}

static void t_sign_verify(void)
{
    CK_SESSION_HANDLE h = open_s(g_slotA, 0);
    unsigned char pub[65], sig[128], sig2[128], der[128], e[32], rs[64];
    CK_ULONG sl, sl2;
    size_t dl;
    const char *msg = "hello SM2 world";
    CK_ULONG ml = (CK_ULONG)strlen(msg);
    const char *alice = "ALICE123@YAHOO.COM";
    CK_MECHANISM mech = {CKM_SM2_SM3, NULL, 0};

    get_point(h, g_pub, pub);
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_SM3, NULL, 0, g_priv, msg, ml, sig, &sl), CKR_USER_NOT_LOGGED_IN);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);

    /* CKM_SM2_SM3 raw */
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_SM3, NULL, 0, g_priv, msg, ml, sig, &sl), CKR_OK);
    CHECK(sl == 64, "raw signature 64 bytes");
    dl = rs2der(sig, der);
    CHECK(ossl_verify(pub, "1234567812345678", 16, (const unsigned char *)msg, ml, der, dl),
          "OpenSSL verifies CKM_SM2_SM3 signature (default ID)");
    CK(verify(h, CKM_SM2_SM3, NULL, 0, g_pub, msg, ml, sig, 64), CKR_OK);
    sig[10] ^= 1;
    CK(verify(h, CKM_SM2_SM3, NULL, 0, g_pub, msg, ml, sig, 64), CKR_SIGNATURE_INVALID);
    CK(verify(h, CKM_SM2_SM3, NULL, 0, g_pub, msg, ml, sig, 63), CKR_SIGNATURE_LEN_RANGE);

    /* CKM_SM2_SM3_DER */
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_SM3_DER, NULL, 0, g_priv, msg, ml, sig, &sl), CKR_OK);
    CHECK(sl >= 8 && sl <= 72 && sig[0] == 0x30, "DER signature");
    CHECK(ossl_verify(pub, "1234567812345678", 16, (const unsigned char *)msg, ml, sig, sl),
          "OpenSSL verifies CKM_SM2_SM3_DER");
    CK(verify(h, CKM_SM2_SM3_DER, NULL, 0, g_pub, msg, ml, sig, sl), CKR_OK);
    CK(verify(h, CKM_SM2_SM3_DER, NULL, 0, g_pub, msg, ml, sig, 80), CKR_SIGNATURE_LEN_RANGE);
    memset(sig2, 0x41, 70);
    CK(verify(h, CKM_SM2_SM3_DER, NULL, 0, g_pub, msg, ml, sig2, 70), CKR_SIGNATURE_INVALID);

    /* explicit ID as mechanism parameter */
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_SM3_DER, alice, strlen(alice), g_priv, msg, ml, sig, &sl), CKR_OK);
    CHECK(ossl_verify(pub, alice, strlen(alice), (const unsigned char *)msg, ml, sig, sl), "OpenSSL verifies with custom ID");
    CHECK(!ossl_verify(pub, "1234567812345678", 16, (const unsigned char *)msg, ml, sig, sl), "ID matters");
    CK(verify(h, CKM_SM2_SM3_DER, alice, strlen(alice), g_pub, msg, ml, sig, sl), CKR_OK);
    CK(verify(h, CKM_SM2_SM3_DER, NULL, 0, g_pub, msg, ml, sig, sl), CKR_SIGNATURE_INVALID);

    /* CKM_SM2 / CKM_SM2_DER over precomputed e */
    test_e("1234567812345678", 16, pub, (const unsigned char *)msg, ml, e);
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2, NULL, 0, g_priv, e, 32, sig, &sl), CKR_OK);
    CHECK(sl == 64, "CKM_SM2 raw 64");
    dl = rs2der(sig, der);
    CHECK(ossl_verify(pub, "1234567812345678", 16, (const unsigned char *)msg, ml, der, dl),
          "CKM_SM2 over e = SM3(Z||M) is a real SM2 signature of M");
    CK(verify(h, CKM_SM2, NULL, 0, g_pub, e, 32, sig, 64), CKR_OK);
    CK(verify(h, CKM_SM2_SM3, NULL, 0, g_pub, msg, ml, sig, 64), CKR_OK);
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_DER, NULL, 0, g_priv, e, 32, sig, &sl), CKR_OK);
    CHECK(ossl_verify(pub, "1234567812345678", 16, (const unsigned char *)msg, ml, sig, sl), "CKM_SM2_DER verifies");
    CK(verify(h, CKM_SM2_DER, NULL, 0, g_pub, e, 32, sig, sl), CKR_OK);
    CK(verify(h, CKM_SM2_DER, NULL, 0, g_pub, e, 31, sig, sl), CKR_DATA_LEN_RANGE);
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2, NULL, 0, g_priv, e, 31, sig, &sl), CKR_DATA_LEN_RANGE);
    CK(F->C_Sign(h, e, 32, sig, &sl), CKR_OPERATION_NOT_INITIALIZED); /* error terminated the op */
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_DER, NULL, 0, g_priv, e, 33, sig, &sl), CKR_DATA_LEN_RANGE);

    /* multi-part */
    CK(F->C_SignInit(h, &mech, g_priv), CKR_OK);
    CK(F->C_SignInit(h, &mech, g_priv), CKR_OPERATION_ACTIVE);
    CK(F->C_SignUpdate(h, (CK_BYTE_PTR)msg, 5), CKR_OK);
    CK(F->C_SignUpdate(h, (CK_BYTE_PTR)msg + 5, ml - 5), CKR_OK);
    sl = 0;
    CK(F->C_SignFinal(h, NULL, &sl), CKR_OK);
    CHECK(sl == 64, "SignFinal length query");
    sl = 10;
    CK(F->C_SignFinal(h, sig, &sl), CKR_BUFFER_TOO_SMALL);
    CHECK(sl == 64, "needed length");
    sl = sizeof(sig);
    CK(F->C_SignFinal(h, sig, &sl), CKR_OK);
    CK(verify(h, CKM_SM2_SM3, NULL, 0, g_pub, msg, ml, sig, 64), CKR_OK);
    CK(F->C_VerifyInit(h, &mech, g_pub), CKR_OK);
    CK(F->C_VerifyUpdate(h, (CK_BYTE_PTR)msg, 3), CKR_OK);
    CK(F->C_VerifyUpdate(h, (CK_BYTE_PTR)msg + 3, ml - 3), CKR_OK);
    CK(F->C_VerifyFinal(h, sig, 64), CKR_OK);
    CK(F->C_VerifyFinal(h, sig, 64), CKR_OPERATION_NOT_INITIALIZED);
    {
        CK_MECHANISM m2 = {CKM_SM2, NULL, 0};
        CK(F->C_SignInit(h, &m2, g_priv), CKR_OK);
        CK(F->C_SignUpdate(h, e, 16), CKR_OK);
        CK(F->C_SignUpdate(h, e + 16, 16), CKR_OK);
        sl = sizeof(sig);
        CK(F->C_SignFinal(h, sig, &sl), CKR_OK);
        CK(verify(h, CKM_SM2, NULL, 0, g_pub, e, 32, sig, sl), CKR_OK);
    }

    /* output length semantics for single-part */
    CK(F->C_SignInit(h, &mech, g_priv), CKR_OK);
    sl = 0;
    CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, NULL, &sl), CKR_OK);
    CHECK(sl == 64, "length query 64");
    sl = 63;
    CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, sig, &sl), CKR_BUFFER_TOO_SMALL);
    CHECK(sl == 64, "needed 64");
    sl = 64;
    CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, sig, &sl), CKR_OK);
    CK(verify(h, CKM_SM2_SM3, NULL, 0, g_pub, msg, ml, sig, 64), CKR_OK);
    {
        CK_MECHANISM md = {CKM_SM2_SM3_DER, NULL, 0};
        CK(F->C_SignInit(h, &md, g_priv), CKR_OK);
        sl = 0;
        CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, NULL, &sl), CKR_OK);
        CHECK(sl == 72, "DER max length 72");
        sl = 20;
        CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, sig, &sl), CKR_BUFFER_TOO_SMALL);
        CHECK(sl >= 68 && sl <= 72, "exact DER length reported (%lu)", (unsigned long)sl);
        sl2 = sl;
        CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, sig, &sl), CKR_OK);
        CHECK(sl == sl2, "same length");
        CK(verify(h, CKM_SM2_SM3_DER, NULL, 0, g_pub, msg, ml, sig, sl), CKR_OK);
    }

    /* hostile */
    sl = sizeof(sig);
    CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, sig, &sl), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_SignInit(h, NULL, g_priv), CKR_ARGUMENTS_BAD);
    {
        CK_MECHANISM bm = {CKM_SHA256_RSA_PKCS, NULL, 0}, dm = {CKM_SM3, NULL, 0};
        CK(F->C_SignInit(h, &bm, g_priv), CKR_MECHANISM_INVALID);
        CK(F->C_SignInit(h, &dm, g_priv), CKR_MECHANISM_INVALID);
        CK(F->C_VerifyInit(h, &bm, g_pub), CKR_MECHANISM_INVALID);
    }
    CK(F->C_SignInit(h, &mech, g_pub), CKR_KEY_TYPE_INCONSISTENT);
    CK(F->C_VerifyInit(h, &mech, g_priv), CKR_KEY_TYPE_INCONSISTENT);
    CK(F->C_SignInit(h, &mech, 0x7fff), CKR_KEY_HANDLE_INVALID);
    CK(F->C_SignInit(0x7fff, &mech, g_priv), CKR_SESSION_HANDLE_INVALID);
    {
        CK_MECHANISM pm = {CKM_SM2_SM3, NULL, 5};
        CK(F->C_SignInit(h, &pm, g_priv), CKR_MECHANISM_PARAM_INVALID);
    }
    CK(F->C_SignInit(h, &mech, g_priv), CKR_OK);
    CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, sig, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_SignInit(h, &mech, g_priv), CKR_OK);
    sl = sizeof(sig);
    CK(F->C_Sign(h, NULL, 5, sig, &sl), CKR_ARGUMENTS_BAD);
    CK(F->C_SignUpdate(h, (CK_BYTE_PTR)msg, 1), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_SignFinal(h, sig, &sl), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_Verify(h, (CK_BYTE_PTR)msg, ml, sig, 64), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_VerifyInit(h, &mech, g_pub), CKR_OK);
    CK(F->C_Verify(h, (CK_BYTE_PTR)msg, ml, NULL, 64), CKR_ARGUMENTS_BAD);
    /* logout terminates and blocks signing */
    CK(F->C_SignInit(h, &mech, g_priv), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    sl = sizeof(sig);
    CK(F->C_Sign(h, (CK_BYTE_PTR)msg, ml, sig, &sl), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_SignInit(h, &mech, g_priv), CKR_USER_NOT_LOGGED_IN);
    /* verification needs no login */
    CK(verify(h, CKM_SM2_SM3_DER, alice, strlen(alice), g_pub, msg, ml, der, 0), CKR_SIGNATURE_LEN_RANGE);
    (void)rs;
    CK(F->C_CloseSession(h), CKR_OK);
}

/* import an OpenSSL key pair, cross-sign/verify both ways */
static void t_import_and_cross(void)
{
    CK_SESSION_HANDLE h = open_s(g_slotA, 1);
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY *k = NULL;
    BIGNUM *bd = NULL;
    unsigned char d[32], pub[65], der[128], sig[128], pt[65], ptd[67], dhex[65];
    size_t pl = 0, dl = sizeof(der);
    CK_ULONG sl;
    CK_OBJECT_HANDLE hpriv, hpub, hx;
    char *content;
    const char *msg = "interop message";
    CK_ULONG ml = (CK_ULONG)strlen(msg);

    EVP_PKEY_keygen_init(kc);
    EVP_PKEY_keygen(kc, &k);
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bd);
    BN_bn2binpad(bd, d, 32);
    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, 65, &pl);
    BN_free(bd);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(kc);

    {
        CK_ATTRIBUTE vt[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_TOKEN, (void *)&T, 1}, {CKA_LABEL, "imported", 8}, {CKA_ID, "IM", 2},
                             {CKA_VALUE, d, 32}};
        CK_ATTRIBUTE bt[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_VALUE, d, 32}, {CKA_SENSITIVE, (void *)&FALSE_, 1}};
        unsigned char zero[32] = {0}, big[33];
        CK_ATTRIBUTE zt[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_VALUE, zero, 32}};
        CK_ATTRIBUTE gt[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_VALUE, big, 33}};
        CK_ATTRIBUTE nt[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)}};
        memset(big, 1, sizeof(big));
        CK(F->C_CreateObject(h, vt, 6, &hpriv), CKR_USER_NOT_LOGGED_IN);
        CK(login(h, CKU_USER, USER_PIN), CKR_OK);
        CK(F->C_CreateObject(h, bt, 4, &hx), CKR_ATTRIBUTE_VALUE_INVALID);
        CK(F->C_CreateObject(h, zt, 3, &hx), CKR_ATTRIBUTE_VALUE_INVALID);
        CK(F->C_CreateObject(h, gt, 3, &hx), CKR_ATTRIBUTE_VALUE_INVALID);
        CK(F->C_CreateObject(h, nt, 2, &hx), CKR_TEMPLATE_INCOMPLETE);
        CK(F->C_CreateObject(h, vt, 6, NULL), CKR_ARGUMENTS_BAD);
        CK(F->C_CreateObject(h, vt, 6, &hpriv), CKR_OK);
    }
    ptd[0] = 0x04;
    ptd[1] = 0x41;
    memcpy(ptd + 2, pub, 65);
    {
        CK_ATTRIBUTE pt_[] = {{CKA_CLASS, &C_PUB, sizeof(C_PUB)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                              {CKA_TOKEN, (void *)&T, 1}, {CKA_LABEL, "imported", 8}, {CKA_ID, "IM", 2},
                              {CKA_EC_POINT, ptd, 67}, {CKA_EC_PARAMS, (void *)SM2_OID, 10}};
        unsigned char badp[67];
        CK_ATTRIBUTE bp[] = {{CKA_CLASS, &C_PUB, sizeof(C_PUB)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_EC_POINT, badp, 67}};
        CK_ATTRIBUTE np[] = {{CKA_CLASS, &C_PUB, sizeof(C_PUB)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)}};
        memcpy(badp, ptd, 67);
        badp[40] ^= 1;
        CK(F->C_CreateObject(h, bp, 3, &hx), CKR_ATTRIBUTE_VALUE_INVALID);
        CK(F->C_CreateObject(h, np, 2, &hx), CKR_TEMPLATE_INCOMPLETE);
        CK(F->C_CreateObject(h, pt_, 7, &hpub), CKR_OK);
    }
    CHECK(get_point(h, hpriv, pt) == 0 && !memcmp(pt, pub, 65), "module derived the public point from d");
    {
        CK_BBOOL b = 9;
        CK_ULONG l = 1;
        CK(get_attr(h, hpriv, CKA_LOCAL, &b, &l), CKR_OK);
        CHECK(b == 0, "imported key is not LOCAL");
    }
    content = read_file_str("alpha.suk");
    bin2hex(d, 32, (char *)dhex);
    CHECK(content && !strstr(content, (char *)dhex), "private scalar not stored in plaintext");
    free(content);

    /* module signs, OpenSSL verifies */
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_SM3_DER, NULL, 0, hpriv, msg, ml, sig, &sl), CKR_OK);
    CHECK(ossl_verify(pub, "1234567812345678", 16, (const unsigned char *)msg, ml, sig, sl), "OpenSSL verifies imported-key sig");
    /* OpenSSL signs, module verifies */
    CHECK(ossl_sign(pub, d, "1234567812345678", 16, (const unsigned char *)msg, ml, der, &dl), "OpenSSL sign");
    CK(verify(h, CKM_SM2_SM3_DER, NULL, 0, hpub, msg, ml, der, dl), CKR_OK);
    {
        unsigned char rs[64];
        der2rs(der, dl, rs);
        CK(verify(h, CKM_SM2_SM3, NULL, 0, hpub, msg, ml, rs, 64), CKR_OK);
        rs[63] ^= 0x80;
        CK(verify(h, CKM_SM2_SM3, NULL, 0, hpub, msg, ml, rs, 64), CKR_SIGNATURE_INVALID);
    }
    /* CKA_SIGN = false is honoured */
    {
        CK_ATTRIBUTE vt[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_VALUE, d, 32}, {CKA_SIGN, (void *)&FALSE_, 1}};
        CK_MECHANISM m = {CKM_SM2_SM3, NULL, 0};
        CK(F->C_CreateObject(h, vt, 4, &hx), CKR_OK);
        CK(F->C_SignInit(h, &m, hx), CKR_KEY_FUNCTION_NOT_PERMITTED);
        CK(F->C_DestroyObject(h, hx), CKR_OK);
    }
    CK(F->C_CloseSession(h), CKR_OK);
}

static const char *KAT_D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
static const char *KAT_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
static const char *KAT_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
static const char *KAT_Z = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
static const char *KAT_E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
static const char *KAT_K = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21";
static const char *KAT_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
static const char *KAT_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

static void t_kat(void)
{
    unsigned char d[32], pub[65], z[32], e[32], ze[32], ee[32], rs[64], sig[80], der[80];
    CK_ULONG sl;
    size_t dl;
    CK_SESSION_HANDLE h;
    CK_OBJECT_HANDLE hpriv, hpub;
    const char *msg = "message digest";

    hex2bin(KAT_D, d, 32);
    pub[0] = 4;
    hex2bin(KAT_X, pub + 1, 32);
    hex2bin(KAT_Y, pub + 33, 32);
    hex2bin(KAT_Z, ze, 32);
    hex2bin(KAT_E, ee, 32);
    hex2bin(KAT_R, rs, 32);
    hex2bin(KAT_S, rs + 32, 32);
    test_z("1234567812345678", 16, pub, z);
    CHECK(!memcmp(z, ze, 32), "KAT: test harness Z matches");
    test_e("1234567812345678", 16, pub, (const unsigned char *)msg, strlen(msg), e);
    CHECK(!memcmp(e, ee, 32), "KAT: test harness e matches");

    setenv("SOFTUKEY_TEST_K", KAT_K, 1);
    restart();
    unsetenv("SOFTUKEY_TEST_K");
    h = open_s(g_slotA, 1);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    {
        CK_ATTRIBUTE vt[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_VALUE, d, 32}, {CKA_LABEL, "kat", 3}};
        unsigned char ptd[67];
        CK_ATTRIBUTE pt[] = {{CKA_CLASS, &C_PUB, sizeof(C_PUB)}, {CKA_KEY_TYPE, &K_SM2, sizeof(K_SM2)},
                             {CKA_EC_POINT, ptd, 67}};
        ptd[0] = 4;
        ptd[1] = 0x41;
        memcpy(ptd + 2, pub, 65);
        CK(F->C_CreateObject(h, vt, 4, &hpriv), CKR_OK);
        CK(F->C_CreateObject(h, pt, 3, &hpub), CKR_OK);
    }
    {
        unsigned char p2[65];
        CHECK(get_point(h, hpriv, p2) == 0 && !memcmp(p2, pub, 65), "KAT: public key derived from d matches");
    }
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_SM3, NULL, 0, hpriv, msg, (CK_ULONG)strlen(msg), sig, &sl), CKR_OK);
    CHECK(sl == 64 && !memcmp(sig, rs, 64), "KAT: CKM_SM2_SM3 with fixed k gives the published r,s");
    if (sl == 64 && memcmp(sig, rs, 64)) {
        char hx[129];
        bin2hex(sig, 64, hx);
        printf("   got %s\n", hx);
    }
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2, NULL, 0, hpriv, ee, 32, sig, &sl), CKR_OK);
    CHECK(sl == 64 && !memcmp(sig, rs, 64), "KAT: CKM_SM2 over e gives the published r,s");
    sl = sizeof(sig);
    CK(sign(h, CKM_SM2_SM3_DER, "1234567812345678", 16, hpriv, msg, (CK_ULONG)strlen(msg), sig, &sl), CKR_OK);
    dl = rs2der(rs, der);
    CHECK(sl == dl && !memcmp(sig, der, dl), "KAT: DER form");
    CK(verify(h, CKM_SM2_SM3, NULL, 0, hpub, msg, (CK_ULONG)strlen(msg), rs, 64), CKR_OK);
    CK(verify(h, CKM_SM2, NULL, 0, hpub, ee, 32, rs, 64), CKR_OK);
    CHECK(ossl_verify(pub, "1234567812345678", 16, (const unsigned char *)msg, strlen(msg), der, dl),
          "KAT: OpenSSL accepts published signature");
    rs[5] ^= 0x10;
    CK(verify(h, CKM_SM2_SM3, NULL, 0, hpub, msg, (CK_ULONG)strlen(msg), rs, 64), CKR_SIGNATURE_INVALID);
    rs[5] ^= 0x10;
    CK(F->C_DestroyObject(h, hpriv), CKR_OK);
    CK(F->C_DestroyObject(h, hpub), CKR_OK);
    CK(F->C_CloseSession(h), CKR_OK);
    restart(); /* drop SOFTUKEY_TEST_K */
}

static void t_digest(void)
{
    CK_SESSION_HANDLE h = open_s(g_slotA, 0);
    CK_MECHANISM m = {CKM_SM3, NULL, 0}, bm = {CKM_SHA256, NULL, 0};
    unsigned char out[64], exp[32], exp2[32];
    CK_ULONG l;
    hex2bin("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", exp, 32);
    hex2bin("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732", exp2, 32);
    CK(F->C_DigestInit(h, &bm), CKR_MECHANISM_INVALID);
    CK(F->C_DigestInit(h, NULL), CKR_ARGUMENTS_BAD);
    l = sizeof(out);
    CK(F->C_Digest(h, (CK_BYTE_PTR)"abc", 3, out, &l), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_DigestInit(h, &m), CKR_OK);
    CK(F->C_DigestInit(h, &m), CKR_OPERATION_ACTIVE);
    l = 0;
    CK(F->C_Digest(h, (CK_BYTE_PTR)"abc", 3, NULL, &l), CKR_OK);
    CHECK(l == 32, "digest length query");
    l = 16;
    CK(F->C_Digest(h, (CK_BYTE_PTR)"abc", 3, out, &l), CKR_BUFFER_TOO_SMALL);
    CHECK(l == 32, "digest needed length");
    l = sizeof(out);
    CK(F->C_Digest(h, (CK_BYTE_PTR)"abc", 3, out, &l), CKR_OK);
    CHECK(l == 32 && !memcmp(out, exp, 32), "SM3(abc) known answer");
    CK(F->C_DigestInit(h, &m), CKR_OK);
    {
        int i;
        for (i = 0; i < 16; i++)
            CK(F->C_DigestUpdate(h, (CK_BYTE_PTR)"abcd", 4), CKR_OK);
    }
    l = 0;
    CK(F->C_DigestFinal(h, NULL, &l), CKR_OK);
    l = sizeof(out);
    CK(F->C_DigestFinal(h, out, &l), CKR_OK);
    CHECK(!memcmp(out, exp2, 32), "SM3(abcd*16) multi-part known answer");
    CK(F->C_DigestFinal(h, out, &l), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_DigestUpdate(h, out, 1), CKR_OPERATION_NOT_INITIALIZED);
    CK(F->C_DigestKey(h, g_pub), CKR_FUNCTION_NOT_SUPPORTED);
    CK(F->C_CloseSession(h), CKR_OK);
}

static unsigned char *make_cert(int *len)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n;
    unsigned char *der = NULL;
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"SoftUKey Test", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, k, EVP_sha256());
    *len = i2d_X509(x, &der);
    X509_free(x);
    EVP_PKEY_free(k);
    return der;
}

static void t_objects(void)
{
    CK_SESSION_HANDLE ro = open_s(g_slotA, 0), rw = open_s(g_slotA, 1);
    int clen = 0;
    unsigned char *cert = make_cert(&clen);
    CK_OBJECT_HANDLE hc, hs, o[8];
    unsigned char buf[4096];
    CK_ULONG l, n;
    CK_ATTRIBUTE ct[] = {{CKA_CLASS, &C_CERT, sizeof(C_CERT)}, {CKA_CERTIFICATE_TYPE, &X509T, sizeof(X509T)},
                         {CKA_TOKEN, (void *)&T, 1}, {CKA_LABEL, "my cert", 7}, {CKA_ID, "K1", 2},
                         {CKA_VALUE, cert, (CK_ULONG)clen}};
    CK_ATTRIBUTE st[] = {{CKA_CLASS, &C_CERT, sizeof(C_CERT)}, {CKA_CERTIFICATE_TYPE, &X509T, sizeof(X509T)},
                         {CKA_TOKEN, (void *)&FALSE_, 1}, {CKA_VALUE, cert, (CK_ULONG)clen}};
    unsigned char junk[40];
    CK_ATTRIBUTE jt[] = {{CKA_CLASS, &C_CERT, sizeof(C_CERT)}, {CKA_CERTIFICATE_TYPE, &X509T, sizeof(X509T)},
                         {CKA_VALUE, junk, sizeof(junk)}};
    CK_ATTRIBUTE nc[] = {{CKA_CERTIFICATE_TYPE, &X509T, sizeof(X509T)}, {CKA_VALUE, cert, (CK_ULONG)clen}};
    CK_ATTRIBUTE nt[] = {{CKA_CLASS, &C_CERT, sizeof(C_CERT)}, {CKA_VALUE, cert, (CK_ULONG)clen}};
    CK_ATTRIBUTE dt[] = {{CKA_CLASS, &C_DATA, sizeof(C_DATA)}, {CKA_VALUE, "x", 1}};
    memset(junk, 0x30, sizeof(junk));

    CK(F->C_CreateObject(ro, ct, 6, &hc), CKR_SESSION_READ_ONLY);
    CK(F->C_CreateObject(rw, jt, 3, &hc), CKR_ATTRIBUTE_VALUE_INVALID);
    CK(F->C_CreateObject(rw, nc, 2, &hc), CKR_TEMPLATE_INCOMPLETE);
    CK(F->C_CreateObject(rw, nt, 2, &hc), CKR_TEMPLATE_INCOMPLETE);
    CK(F->C_CreateObject(rw, dt, 2, &hc), CKR_ATTRIBUTE_VALUE_INVALID);
    CK(F->C_CreateObject(rw, NULL, 3, &hc), CKR_ARGUMENTS_BAD);
    CK(F->C_CreateObject(rw, ct, 6, &hc), CKR_OK); /* public token object, no login needed */
    CK(F->C_CreateObject(ro, st, 4, &hs), CKR_OK); /* session object in RO session */
    l = sizeof(buf);
    CK(get_attr(ro, hc, CKA_VALUE, buf, &l), CKR_OK);
    CHECK(l == (CK_ULONG)clen && !memcmp(buf, cert, l), "cert value");
    {
        const unsigned char *p = cert;
        X509 *x = d2i_X509(NULL, &p, clen);
        unsigned char *sub = NULL, *ser = NULL;
        int sl_ = i2d_X509_NAME(X509_get_subject_name(x), &sub);
        int rl = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &ser);
        l = sizeof(buf);
        CK(get_attr(ro, hc, CKA_SUBJECT, buf, &l), CKR_OK);
        CHECK(l == (CK_ULONG)sl_ && !memcmp(buf, sub, l), "CKA_SUBJECT from cert");
        l = sizeof(buf);
        CK(get_attr(ro, hc, CKA_ISSUER, buf, &l), CKR_OK);
        CHECK(l == (CK_ULONG)sl_ && !memcmp(buf, sub, l), "CKA_ISSUER from cert");
        l = sizeof(buf);
        CK(get_attr(ro, hc, CKA_SERIAL_NUMBER, buf, &l), CKR_OK);
        CHECK(l == (CK_ULONG)rl && !memcmp(buf, ser, l), "CKA_SERIAL_NUMBER DER INTEGER");
        OPENSSL_free(sub);
        OPENSSL_free(ser);
        X509_free(x);
    }
    {
        CK_ULONG v = 99;
        CK_BBOOL b = 9;
        l = sizeof(v);
        CK(get_attr(ro, hc, CKA_CERTIFICATE_TYPE, &v, &l), CKR_OK);
        CHECK(v == CKC_X_509, "cert type");
        l = 1;
        CK(get_attr(ro, hc, CKA_PRIVATE, &b, &l), CKR_OK);
        CHECK(b == 0, "cert not private");
        l = 1;
        CK(get_attr(ro, hc, CKA_MODIFIABLE, &b, &l), CKR_OK);
        CHECK(b == 1, "cert modifiable");
    }
    /* set attributes */
    {
        CK_ATTRIBUTE sa[] = {{CKA_LABEL, "renamed", 7}, {CKA_ID, "NEWID", 5}};
        CK_ATTRIBUTE sv[] = {{CKA_VALUE, "x", 1}};
        CK_ATTRIBUTE sb[] = {{CKA_MODULUS, "x", 1}};
        CK(F->C_SetAttributeValue(ro, hc, sa, 2), CKR_SESSION_READ_ONLY);
        CK(F->C_SetAttributeValue(rw, hc, sv, 1), CKR_ATTRIBUTE_READ_ONLY);
        CK(F->C_SetAttributeValue(rw, hc, sb, 1), CKR_ATTRIBUTE_TYPE_INVALID);
        CK(F->C_SetAttributeValue(rw, hc, NULL, 1), CKR_ARGUMENTS_BAD);
        CK(F->C_SetAttributeValue(rw, hc, sa, 2), CKR_OK);
        CK(F->C_SetAttributeValue(ro, hs, sa, 1), CKR_OK); /* session object in RO session */
        l = sizeof(buf);
        CK(get_attr(ro, hc, CKA_LABEL, buf, &l), CKR_OK);
        CHECK(l == 7 && !memcmp(buf, "renamed", 7), "label changed");
        l = sizeof(buf);
        CK(get_attr(ro, hc, CKA_ID, buf, &l), CKR_OK);
        CHECK(l == 5 && !memcmp(buf, "NEWID", 5), "id changed");
    }
    {
        CK_ATTRIBUTE f[] = {{CKA_CLASS, &C_CERT, sizeof(C_CERT)}};
        n = find_all(ro, f, 1, o, 8);
        CHECK(n == 2, "token + session certificate found (%lu)", (unsigned long)n);
    }
    /* persistence across restart */
    restart();
    ro = open_s(g_slotA, 0);
    rw = open_s(g_slotA, 1);
    {
        CK_ATTRIBUTE f[] = {{CKA_CLASS, &C_CERT, sizeof(C_CERT)}, {CKA_LABEL, "renamed", 7}};
        n = find_all(ro, f, 2, o, 8);
        CHECK(n == 1, "token cert survives restart, session cert does not (%lu)", (unsigned long)n);
        hc = n ? o[0] : 0;
    }
    CK(F->C_DestroyObject(ro, hc), CKR_SESSION_READ_ONLY);
    CK(F->C_DestroyObject(rw, hc), CKR_OK);
    CK(F->C_DestroyObject(rw, hc), CKR_OBJECT_HANDLE_INVALID);
    l = sizeof(buf);
    CK(get_attr(ro, hc, CKA_VALUE, buf, &l), CKR_OBJECT_HANDLE_INVALID);
    CK(F->C_DestroyObject(0, hc), CKR_SESSION_HANDLE_INVALID);
    /* non-destroyable / non-modifiable objects */
    {
        CK_ATTRIBUTE ut[] = {{CKA_CLASS, &C_CERT, sizeof(C_CERT)}, {CKA_CERTIFICATE_TYPE, &X509T, sizeof(X509T)},
                             {CKA_VALUE, cert, (CK_ULONG)clen}, {CKA_DESTROYABLE, (void *)&FALSE_, 1},
                             {CKA_MODIFIABLE, (void *)&FALSE_, 1}};
        CK_ATTRIBUTE sa[] = {{CKA_LABEL, "x", 1}};
        CK(F->C_CreateObject(ro, ut, 5, &hs), CKR_OK);
        CK(F->C_SetAttributeValue(ro, hs, sa, 1), CKR_ACTION_PROHIBITED);
        CK(F->C_DestroyObject(ro, hs), CKR_ACTION_PROHIBITED);
    }
    CK(F->C_CloseSession(ro), CKR_OK);
    CK(F->C_CloseSession(rw), CKR_OK);
    OPENSSL_free(cert);
}

static int find_priv_count(CK_SLOT_ID slot, const char *pin)
{
    CK_SESSION_HANDLE h = open_s(slot, 0);
    CK_OBJECT_HANDLE o[8];
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}};
    CK_ULONG n;
    if (login(h, CKU_USER, pin) != CKR_OK) {
        F->C_CloseSession(h);
        return -1;
    }
    n = find_all(h, t, 1, o, 8);
    F->C_CloseSession(h);
    return (int)n;
}

static void t_pin_lifecycle(void)
{
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE h;
    CK_OBJECT_HANDLE pub, priv;
    int i;
    CK_FLAGS f;
    unsigned char sig[80];
    CK_ULONG sl;

    slot = provision("pin.suk", "PINTEST01", "PIN test");
    h = open_s(slot, 1);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    genkey(h, "pin-key", "P1", CK_TRUE, &pub, &priv);
    CK(F->C_Logout(h), CKR_OK);

    CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    f = tok_flags(slot);
    CHECK((f & CKF_USER_PIN_COUNT_LOW) && !(f & CKF_USER_PIN_FINAL_TRY), "count low after 1 wrong");
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    CHECK(!(tok_flags(slot) & CKF_USER_PIN_COUNT_LOW), "right PIN resets counter");
    CK(F->C_Logout(h), CKR_OK);
    for (i = 0; i < 5; i++)
        CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    f = tok_flags(slot);
    CHECK(f & CKF_USER_PIN_FINAL_TRY, "final try after 5 wrong");
    /* counter survives a process restart */
    restart();
    slot = slot_of("PINTEST01");
    f = tok_flags(slot);
    CHECK((f & CKF_USER_PIN_FINAL_TRY) && !(f & CKF_USER_PIN_LOCKED), "final try survives restart");
    h = open_s(slot, 1);
    CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    CHECK(tok_flags(slot) & CKF_USER_PIN_LOCKED, "locked after 6 wrong");
    CK(login(h, CKU_USER, USER_PIN), CKR_PIN_LOCKED);
    CK(login(h, CKU_USER, "000000"), CKR_PIN_LOCKED);
    restart();
    slot = slot_of("PINTEST01");
    h = open_s(slot, 1);
    CK(login(h, CKU_USER, USER_PIN), CKR_PIN_LOCKED);
    /* SO unblock keeps keys */
    CK(login(h, CKU_SO, SO_PIN), CKR_OK);
    CK(F->C_InitPIN(h, (CK_UTF8CHAR_PTR)"654321", 6), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    f = tok_flags(slot);
    CHECK(!(f & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY)), "unblocked");
    CK(login(h, CKU_USER, USER_PIN), CKR_PIN_INCORRECT);
    CK(login(h, CKU_USER, "654321"), CKR_OK);
    {
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_LABEL, "pin-key", 7}};
        CK_OBJECT_HANDLE o[4];
        CK_ULONG n = find_all(h, t, 2, o, 4);
        CHECK(n == 1, "key kept after SO unblock");
        sl = sizeof(sig);
        if (n == 1)
            CK(sign(h, CKM_SM2_SM3, NULL, 0, o[0], "x", 1, sig, &sl), CKR_OK);
    }
    /* C_SetPIN */
    CK(F->C_SetPIN(h, (CK_UTF8CHAR_PTR)"999999", 6, (CK_UTF8CHAR_PTR)"111111", 6), CKR_PIN_INCORRECT);
    CK(F->C_SetPIN(h, (CK_UTF8CHAR_PTR)"654321", 6, (CK_UTF8CHAR_PTR)"111", 3), CKR_PIN_LEN_RANGE);
    CK(F->C_SetPIN(h, NULL, 6, (CK_UTF8CHAR_PTR)"111111", 6), CKR_ARGUMENTS_BAD);
    CK(F->C_SetPIN(h, (CK_UTF8CHAR_PTR)"654321", 6, (CK_UTF8CHAR_PTR)"111111", 6), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    CK(login(h, CKU_USER, "654321"), CKR_PIN_INCORRECT);
    CK(login(h, CKU_USER, "111111"), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    {
        CK_SESSION_HANDLE r = open_s(slot, 0);
        CK(F->C_SetPIN(r, (CK_UTF8CHAR_PTR)"111111", 6, (CK_UTF8CHAR_PTR)"222222", 6), CKR_SESSION_READ_ONLY);
        CK(F->C_CloseSession(r), CKR_OK);
    }
    /* not logged in, RW session: changes the user PIN */
    CK(F->C_SetPIN(h, (CK_UTF8CHAR_PTR)"111111", 6, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_OK);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    /* SO changes own PIN */
    CK(login(h, CKU_SO, SO_PIN), CKR_OK);
    CK(F->C_SetPIN(h, (CK_UTF8CHAR_PTR)SO_PIN, 8, (CK_UTF8CHAR_PTR)"SOnew-99", 8), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    CK(login(h, CKU_SO, SO_PIN), CKR_PIN_INCORRECT);
    CK(login(h, CKU_SO, "SOnew-99"), CKR_OK);
    CK(F->C_SetPIN(h, (CK_UTF8CHAR_PTR)"SOnew-99", 8, (CK_UTF8CHAR_PTR)SO_PIN, 8), CKR_OK);
    CK(F->C_Logout(h), CKR_OK);
    CHECK(find_priv_count(slot, USER_PIN) == 1, "user PIN still valid, key present");
    /* re-initialisation wipes objects and the user PIN */
    CK(F->C_CloseSession(h), CKR_OK);
    {
        CK_UTF8CHAR lab[32];
        CK_SESSION_HANDLE h2;
        label32("PIN test 2", lab);
        CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)"wrongSO!", 8, lab), CKR_PIN_INCORRECT);
        CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)SO_PIN, 8, lab), CKR_OK);
        f = tok_flags(slot);
        CHECK((f & CKF_TOKEN_INITIALIZED) && !(f & CKF_USER_PIN_INITIALIZED), "re-init clears user PIN");
        h2 = open_s(slot, 1);
        CK(login(h2, CKU_SO, SO_PIN), CKR_OK);
        CK(F->C_InitPIN(h2, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_OK);
        CK(F->C_Logout(h2), CKR_OK);
        CK(F->C_CloseSession(h2), CKR_OK);
        CHECK(find_priv_count(slot, USER_PIN) == 0, "re-init wiped objects");
    }
    /* SOFTUKEY_MAX_TRIES for new tokens */
    setenv("SOFTUKEY_MAX_TRIES", "3", 1);
    restart();
    unsetenv("SOFTUKEY_MAX_TRIES");
    slot = provision("tries.suk", "TRIES3", "three tries");
    h = open_s(slot, 0);
    for (i = 0; i < 2; i++)
        CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    CHECK(tok_flags(slot) & CKF_USER_PIN_FINAL_TRY, "final try after 2 of 3");
    CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    CK(login(h, CKU_USER, USER_PIN), CKR_PIN_LOCKED);
    CK(F->C_CloseSession(h), CKR_OK);
    restart();
    {
        char *c = read_file_str("tries.suk");
        CHECK(c && strstr(c, "user_max_tries=3\n") && strstr(c, "user_tries_left=0\n"), "max tries stored in file");
        free(c);
    }
}

/* ---- PIN counter hardware-feature object ---- */

static CK_OBJECT_CLASS C_HWF = CKO_HW_FEATURE;
static CK_HW_FEATURE_TYPE H_PINCTR = CKH_SUK_PIN_COUNTER;

/* find the PIN counter object; returns CK_INVALID_HANDLE unless exactly one */
static CK_OBJECT_HANDLE find_ctr(CK_SESSION_HANDLE h)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &C_HWF, sizeof(C_HWF)}, {CKA_HW_FEATURE_TYPE, &H_PINCTR, sizeof(H_PINCTR)}};
    CK_OBJECT_HANDLE o[4];
    CK_ULONG n = find_all(h, t, 2, o, 4);
    return n == 1 ? o[0] : CK_INVALID_HANDLE;
}

/* reads the four counters; 0 on success */
static int read_ctr(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ULONG v[4])
{
    CK_ATTRIBUTE t[] = {{CKA_SUK_USER_TRIES_LEFT, &v[0], sizeof(CK_ULONG)},
                        {CKA_SUK_USER_MAX_TRIES, &v[1], sizeof(CK_ULONG)},
                        {CKA_SUK_SO_TRIES_LEFT, &v[2], sizeof(CK_ULONG)},
                        {CKA_SUK_SO_MAX_TRIES, &v[3], sizeof(CK_ULONG)}};
    int i;
    for (i = 0; i < 4; i++)
        v[i] = 0xdead;
    return F->C_GetAttributeValue(h, o, t, 4) == CKR_OK ? 0 : -1;
}

#define CTR_IS(h, o, ul, um, sl_, sm, what)                                                          \
    do {                                                                                              \
        CK_ULONG _v[4];                                                                               \
        int _r = read_ctr(h, o, _v);                                                                  \
        CHECK(_r == 0 && _v[0] == (ul) && _v[1] == (um) && _v[2] == (sl_) && _v[3] == (sm),           \
              "%s: counters %lu/%lu SO %lu/%lu (rc %d)", what, _v[0], _v[1], _v[2], _v[3], _r);         \
    } while (0)

static void t_pin_counter(void)
{
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE h, rw;
    CK_OBJECT_HANDLE hc, hc2, pub, priv, o[16];
    CK_ULONG n, l, v, i, cls;
    CK_BBOOL b;
    unsigned char buf[64];
    CK_MECHANISM m = {CKM_SM2_SM3, NULL, 0};
    pid_t pid;
    int st = 0;

    slot = provision("ctr.suk", "CTRTEST01", "counter test");
    h = open_s(slot, 0);
    /* found without login, by class alone and by class + feature type */
    {
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &C_HWF, sizeof(C_HWF)}};
        n = find_all(h, t, 1, o, 16);
        CHECK(n == 1, "find CKO_HW_FEATURE without login (%lu)", (unsigned long)n);
    }
    hc = find_ctr(h);
    CHECK(hc != CK_INVALID_HANDLE, "find class + CKH_SUK_PIN_COUNTER");
    n = find_all(h, NULL, 0, o, 16);
    CHECK(n == 1 && o[0] == hc, "empty template on an empty token returns only the counter (%lu)", (unsigned long)n);
    {
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &C_PUB, sizeof(C_PUB)}};
        CK_HW_FEATURE_TYPE other = CKH_CLOCK;
        CK_ATTRIBUTE t2[] = {{CKA_CLASS, &C_HWF, sizeof(C_HWF)}, {CKA_HW_FEATURE_TYPE, &other, sizeof(other)}};
        CK_ATTRIBUTE t3[] = {{CKA_CLASS, &C_HWF, sizeof(C_HWF)}, {CKA_PRIVATE, (void *)&T, 1}};
        CHECK(find_all(h, t, 1, o, 16) == 0, "public-key template does not return it");
        CHECK(find_all(h, t2, 2, o, 16) == 0, "other feature type does not match");
        CHECK(find_all(h, t3, 2, o, 16) == 0, "CKA_PRIVATE=TRUE does not match");
    }
    CHECK(find_ctr(h) == hc, "handle stable across finds");
    /* standard attributes */
    l = sizeof(cls);
    CK(get_attr(h, hc, CKA_CLASS, &cls, &l), CKR_OK);
    CHECK(l == sizeof(CK_ULONG) && cls == CKO_HW_FEATURE, "class CKO_HW_FEATURE");
    l = sizeof(v);
    CK(get_attr(h, hc, CKA_HW_FEATURE_TYPE, &v, &l), CKR_OK);
    CHECK(v == 0x80000001UL, "feature type 0x80000001");
    l = 1;
    CK(get_attr(h, hc, CKA_TOKEN, &b, &l), CKR_OK);
    CHECK(l == 1 && b == CK_TRUE, "CKA_TOKEN true");
    l = 1;
    CK(get_attr(h, hc, CKA_PRIVATE, &b, &l), CKR_OK);
    CHECK(l == 1 && b == CK_FALSE, "CKA_PRIVATE false");
    l = 1;
    CK(get_attr(h, hc, CKA_MODIFIABLE, &b, &l), CKR_OK);
    CHECK(l == 1 && b == CK_FALSE, "CKA_MODIFIABLE false");
    l = sizeof(buf);
    CK(get_attr(h, hc, CKA_LABEL, buf, &l), CKR_OK);
    CHECK(l == 11 && !memcmp(buf, "PIN counter", 11), "label");
    CTR_IS(h, hc, 6, 6, 10, 10, "fresh token");
    /* usual GetAttributeValue semantics */
    l = 0;
    CK(get_attr(h, hc, CKA_SUK_USER_TRIES_LEFT, NULL, &l), CKR_OK);
    CHECK(l == sizeof(CK_ULONG), "NULL pValue returns length (%lu)", (unsigned long)l);
    l = 4;
    CK(get_attr(h, hc, CKA_SUK_USER_TRIES_LEFT, buf, &l), CKR_BUFFER_TOO_SMALL);
    CHECK(l == CK_UNAVAILABLE_INFORMATION, "short buffer -> unavailable");
    l = sizeof(v);
    CK(get_attr(h, hc, CKA_VALUE, &v, &l), CKR_ATTRIBUTE_TYPE_INVALID);
    CHECK(l == CK_UNAVAILABLE_INFORMATION, "unknown attribute -> unavailable");
    l = sizeof(v);
    CK(get_attr(h, hc, 0x80000105UL, &v, &l), CKR_ATTRIBUTE_TYPE_INVALID);
    {
        CK_ULONG a = 0, c = 0;
        CK_ATTRIBUTE t[] = {{CKA_SUK_USER_TRIES_LEFT, &a, sizeof(a)}, {CKA_EC_POINT, buf, sizeof(buf)},
                            {CKA_SUK_SO_MAX_TRIES, &c, sizeof(c)}};
        CK(F->C_GetAttributeValue(h, hc, t, 3), CKR_ATTRIBUTE_TYPE_INVALID);
        CHECK(a == 6 && c == 10 && t[1].ulValueLen == CK_UNAVAILABLE_INFORMATION, "mixed template fills the rest");
    }
    CK(F->C_GetAttributeValue(h, hc, NULL, 1), CKR_ARGUMENTS_BAD);
    CK(F->C_GetAttributeValue(h, hc, NULL, 0), CKR_OK);
    CK(F->C_GetObjectSize(h, hc, &l), CKR_OK);
    /* read-only, not destroyable, not a key */
    rw = open_s(slot, 1);
    {
        CK_ATTRIBUTE t[] = {{CKA_SUK_USER_TRIES_LEFT, &v, sizeof(v)}};
        CK_ATTRIBUTE tl[] = {{CKA_LABEL, "x", 1}};
        v = 99;
        CK(F->C_SetAttributeValue(rw, hc, t, 1), CKR_ACTION_PROHIBITED);
        CK(F->C_SetAttributeValue(rw, hc, tl, 1), CKR_ACTION_PROHIBITED);
        CK(F->C_SetAttributeValue(h, hc, tl, 1), CKR_ACTION_PROHIBITED);
        CK(F->C_SetAttributeValue(rw, hc, NULL, 1), CKR_ARGUMENTS_BAD);
    }
    CK(F->C_DestroyObject(rw, hc), CKR_ACTION_PROHIBITED);
    CK(F->C_DestroyObject(h, hc), CKR_ACTION_PROHIBITED);
    CK(F->C_CopyObject(rw, hc, NULL, 0, &l), CKR_FUNCTION_NOT_SUPPORTED);
    CK(F->C_VerifyInit(h, &m, hc), CKR_KEY_HANDLE_INVALID);
    CK(login(rw, CKU_USER, USER_PIN), CKR_OK);
    CK(F->C_SignInit(rw, &m, hc), CKR_KEY_HANDLE_INVALID);
    genkey(rw, "ctr-key", "C1", CK_TRUE, &pub, &priv);
    CHECK(pub != hc && priv != hc, "key handles do not collide with the counter");
    n = find_all(rw, NULL, 0, o, 16);
    CHECK(n == 3, "empty template: 2 keys + counter (%lu)", (unsigned long)n);
    CHECK(n == 3 && (o[0] == hc || o[1] == hc || o[2] == hc), "counter among them");
    CK(F->C_Logout(rw), CKR_OK);
    CTR_IS(h, hc, 6, 6, 10, 10, "after good login");
    {
        char *c = read_file_str("ctr.suk");
        CHECK(c && strstr(c, "\nobj=") && !strstr(c, "a=80000101:") && !strstr(c, "a=80000104:") &&
                  !strstr(c, "a=300:") && !strstr(c, "a=0:0500000000000000"),
              "counter object not stored in the token file");
        free(c);
    }
    /* wrong user PINs decrement, right PIN resets */
    CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    CTR_IS(h, hc, 4, 6, 10, 10, "after 2 wrong user PINs");
    /* survives a restart: read again from the file */
    CK(F->C_CloseSession(rw), CKR_OK);
    CK(F->C_CloseSession(h), CKR_OK);
    restart();
    slot = slot_of("CTRTEST01");
    h = open_s(slot, 0);
    hc = find_ctr(h);
    CHECK(hc != CK_INVALID_HANDLE, "found after restart");
    CTR_IS(h, hc, 4, 6, 10, 10, "after restart");
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    CTR_IS(h, hc, 6, 6, 10, 10, "right PIN resets");
    CK(F->C_Logout(h), CKR_OK);
    /* another process's wrong tries show up through the same handle */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        CK_SESSION_HANDLE c;
        int bad = 0;
        F->C_Finalize(NULL);
        if (F->C_Initialize(NULL) != CKR_OK)
            _exit(10);
        if (F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &c) != CKR_OK)
            _exit(11);
        bad |= F->C_Login(c, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6) != CKR_PIN_INCORRECT;
        F->C_Finalize(NULL);
        lib_unload();
        _exit(bad ? 12 : 0);
    }
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child process ok (status %d)", st);
    CTR_IS(h, hc, 5, 6, 10, 10, "wrong PIN in another process visible");
    /* lock */
    for (i = 0; i < 5; i++)
        CK(login(h, CKU_USER, "000000"), CKR_PIN_INCORRECT);
    CTR_IS(h, hc, 0, 6, 10, 10, "locked");
    CK(login(h, CKU_USER, USER_PIN), CKR_PIN_LOCKED);
    CTR_IS(h, hc, 0, 6, 10, 10, "still locked");
    /* SO wrong PIN decrements the SO counter; SO unblock restores the user counter */
    CK(F->C_CloseSession(h), CKR_OK); /* SO login needs no RO session */
    rw = open_s(slot, 1);
    CK(login(rw, CKU_SO, "wrongSO!"), CKR_PIN_INCORRECT);
    CTR_IS(rw, hc, 0, 6, 9, 10, "after 1 wrong SO PIN");
    CK(login(rw, CKU_SO, "wrongSO!"), CKR_PIN_INCORRECT);
    CTR_IS(rw, hc, 0, 6, 8, 10, "after 2 wrong SO PINs");
    CK(login(rw, CKU_SO, SO_PIN), CKR_OK);
    CTR_IS(rw, hc, 0, 6, 10, 10, "right SO PIN resets SO counter");
    CK(F->C_InitPIN(rw, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_OK);
    CTR_IS(rw, hc, 6, 6, 10, 10, "after SO unblock");
    CK(F->C_DestroyObject(rw, hc), CKR_ACTION_PROHIBITED);
    CK(F->C_Logout(rw), CKR_OK);
    CK(F->C_CloseSession(rw), CKR_OK);
    /* re-initialisation: old handle invalid like other objects, new one found */
    {
        CK_UTF8CHAR lab[32];
        label32("counter test 2", lab);
        CK(F->C_InitToken(slot, (CK_UTF8CHAR_PTR)SO_PIN, 8, lab), CKR_OK);
    }
    h = open_s(slot, 0);
    l = sizeof(v);
    CK(get_attr(h, hc, CKA_SUK_USER_TRIES_LEFT, &v, &l), CKR_OBJECT_HANDLE_INVALID);
    hc2 = find_ctr(h);
    CHECK(hc2 != CK_INVALID_HANDLE && hc2 != hc, "new handle after re-init");
    CHECK(find_ctr(h) == hc2, "new handle stable");
    CK(F->C_CloseSession(h), CKR_OK);
    /* pulling the token invalidates the handle */
    h = open_s(slot, 0);
    rename_file("ctr.suk", ".ctr.away");
    l = sizeof(v);
    CK(get_attr(h, hc2, CKA_SUK_USER_TRIES_LEFT, &v, &l), CKR_DEVICE_REMOVED);
    CK(get_attr(h, hc2, CKA_SUK_USER_TRIES_LEFT, &v, &l), CKR_SESSION_HANDLE_INVALID);
    rename_file(".ctr.away", "ctr.suk");
    slot = slot_of("CTRTEST01");
    h = open_s(slot, 0);
    CK(F->C_DestroyObject(h, 0), CKR_OBJECT_HANDLE_INVALID);
    CK(get_attr(h, 0, CKA_CLASS, &v, &l), CKR_OBJECT_HANDLE_INVALID);
    CHECK(find_ctr(h) == hc2, "same handle after replug");
    CK(F->C_CloseSession(h), CKR_OK);
}

static void *waiter(void *arg)
{
    CK_SLOT_ID s;
    CK_RV *rv = arg;
    *rv = F->C_WaitForSlotEvent(0, &s, NULL);
    return NULL;
}

static void t_hotplug(void)
{
    CK_SLOT_ID list[32], sB, sC, ev, sD;
    CK_ULONG n, n0;
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE h;
    CK_SESSION_INFO sinfo;
    CK_RV rv;

    /* drain pending events */
    while (F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL) == CKR_OK)
        ;
    CK(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_NO_EVENT);
    CK(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL), CKR_ARGUMENTS_BAD);
    n0 = 32;
    CK(F->C_GetSlotList(CK_TRUE, list, &n0), CKR_OK);
    sB = provision("bravo.suk", "BRAVO0001", "Bravo");
    n = 32;
    CK(F->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
    CHECK(n == n0 + 1, "plugged key appears");
    CK(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_OK);
    CHECK(ev == sB, "insertion event for the new slot");
    CK(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_NO_EVENT);
    n = 1;
    CK(F->C_GetSlotList(CK_TRUE, list, &n), CKR_BUFFER_TOO_SMALL);
    CHECK(n == n0 + 1, "needed count");

    h = open_s(sB, 0);
    rename_file("bravo.suk", "bravo.pulled");
    n = 32;
    CK(F->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
    CHECK(n == n0, "pulled key disappears from present list");
    n = 32;
    CK(F->C_GetSlotList(CK_FALSE, list, &n), CKR_OK);
    {
        CK_ULONG i;
        int found = 0;
        for (i = 0; i < n; i++)
            found |= list[i] == sB;
        CHECK(found, "pulled slot stays in full list");
    }
    CK(F->C_GetSlotInfo(sB, &si), CKR_OK);
    CHECK(!(si.flags & CKF_TOKEN_PRESENT), "slot shows no token");
    CK(F->C_GetTokenInfo(sB, &ti), CKR_TOKEN_NOT_PRESENT);
    rv = F->C_GetSessionInfo(h, &sinfo);
    CHECK(rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_DEVICE_REMOVED, "session on pulled key -> 0x%lx", (unsigned long)rv);
    CK(F->C_OpenSession(sB, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_TOKEN_NOT_PRESENT);
    CK(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_OK);
    CHECK(ev == sB, "removal event");
    /* re-plug: same slot id */
    rename_file("bravo.pulled", "bravo.suk");
    CHECK(slot_of("BRAVO0001") == sB, "re-plugged key keeps its slot id");
    CK(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_OK);
    CHECK(ev == sB, "re-insertion event");
    /* removal detected directly by a session call */
    h = open_s(sB, 0);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    rename_file("bravo.suk", "bravo.pulled");
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_DEVICE_REMOVED);
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_CloseSession(h), CKR_SESSION_HANDLE_INVALID);
    rename_file("bravo.pulled", "bravo.suk");
    h = open_s(sB, 0);
    CK(F->C_GetSessionInfo(h, &sinfo), CKR_OK);
    CHECK(sinfo.state == CKS_RO_PUBLIC_SESSION, "login state dropped by removal");
    CK(F->C_CloseSession(h), CKR_OK);
    /* new serial -> new slot id, never reused */
    sC = provision("charlie.suk", "CHARLIE01", "Charlie");
    CHECK(sC != sB && sC > sB, "new serial gets a new slot id");
    /* blocking wait: a key plugged by another thread */
    {
        pthread_t th;
        CK_RV wrv = 0xffff;
        while (F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL) == CKR_OK)
            ;
        pthread_create(&th, NULL, waiter, &wrv);
        usleep(300 * 1000);
        write_file("delta.suk", "SOFTUKEY-BLANK serial=DELTA01\n");
        pthread_join(th, NULL);
        CK(wrv, CKR_OK);
        sD = slot_of("DELTA01");
        CHECK(sD != (CK_SLOT_ID)-1, "blank delta visible");
        /* C_Finalize releases a blocked waiter */
        wrv = 0xffff;
        pthread_create(&th, NULL, waiter, &wrv);
        usleep(300 * 1000);
        CK(F->C_Finalize(NULL), CKR_OK);
        pthread_join(th, NULL);
        CK(wrv, CKR_CRYPTOKI_NOT_INITIALIZED);
        CK(F->C_Initialize(NULL), CKR_OK);
        {
            char p[512];
            path_of("delta.suk", p, sizeof(p));
            unlink(p);
        }
    }
}

static void t_corrupt(void)
{
    CK_SLOT_ID s;
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE h;
    CK_ULONG n;
    CK_SLOT_ID list[32];
    char *c;
    CK_UTF8CHAR lab[32];
    write_file("garbage.suk", "\x01\x02 this is not a token at all\n");
    write_file("broken.suk", "SOFTUKEY-TOKEN 1\nserial=BROKEN01\nlabel=zz\n");
    n = 32;
    CK(F->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
    s = (CK_SLOT_ID)-1;
    {
        CK_ULONG i;
        for (i = 0; i < n; i++)
            if (F->C_GetTokenInfo(list[i], &ti) == CKR_DEVICE_ERROR)
                s = list[i];
    }
    CHECK(s != (CK_SLOT_ID)-1, "corrupt token with serial is present but DEVICE_ERROR");
    CK(F->C_OpenSession(s, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_DEVICE_ERROR);
    label32("x", lab);
    CK(F->C_InitToken(s, (CK_UTF8CHAR_PTR)SO_PIN, 8, lab), CKR_DEVICE_ERROR);
    /* truncated real token file */
    provision("echo.suk", "ECHO0001", "Echo");
    c = read_file_str("echo.suk");
    if (c) {
        c[strlen(c) / 2] = 0;
        write_file("echo.suk", c);
        free(c);
    }
    s = (CK_SLOT_ID)-1;
    n = 32;
    F->C_GetSlotList(CK_TRUE, list, &n);
    {
        CK_ULONG i;
        CK_SLOT_INFO si;
        for (i = 0; i < n; i++)
            if (F->C_GetSlotInfo(list[i], &si) == CKR_OK && strstr((char *)si.slotDescription, "ECHO0001"))
                s = list[i];
    }
    CHECK(s != (CK_SLOT_ID)-1, "truncated token still listed");
    CK(F->C_GetTokenInfo(s, &ti), CKR_DEVICE_ERROR);
    {
        char p[512];
        path_of("garbage.suk", p, sizeof(p));
        unlink(p);
        path_of("broken.suk", p, sizeof(p));
        unlink(p);
        path_of("echo.suk", p, sizeof(p));
        unlink(p);
    }
}

static void t_hostile_misc(void)
{
    CK_SESSION_HANDLE h = open_s(g_slotA, 0);
    unsigned char r1[32], r2[32];
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_SESSION_INFO sinfo;
    CK_MECHANISM m = {CKM_SM2_SM3, NULL, 0};
    CK_ULONG l = 0;
    CK(F->C_GenerateRandom(h, NULL, 16), CKR_ARGUMENTS_BAD);
    CK(F->C_GenerateRandom(h, r1, 32), CKR_OK);
    CK(F->C_GenerateRandom(h, r2, 32), CKR_OK);
    CHECK(memcmp(r1, r2, 32) != 0, "random differs");
    CK(F->C_GenerateRandom(h, r1, 0), CKR_OK);
    CK(F->C_GenerateRandom(0, r1, 32), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_SeedRandom(h, r1, 32), CKR_RANDOM_SEED_NOT_SUPPORTED);
    CK(F->C_GetSlotInfo(999, &si), CKR_SLOT_ID_INVALID);
    CK(F->C_GetSlotInfo(g_slotA, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_GetTokenInfo(999, &ti), CKR_SLOT_ID_INVALID);
    CK(F->C_GetTokenInfo(g_slotA, NULL), CKR_ARGUMENTS_BAD);
    CK(F->C_GetSessionInfo(0, &sinfo), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_GetSessionInfo(0x12345678, &sinfo), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_Login(0, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_Logout(0), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_InitPIN(0, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_SetPIN(0, (CK_UTF8CHAR_PTR)USER_PIN, 6, (CK_UTF8CHAR_PTR)USER_PIN, 6), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_SignInit(0, &m, 1), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_VerifyInit(0, &m, 1), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_DigestInit(0, &m), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_Sign(0, r1, 1, r2, &l), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_CreateObject(0, NULL, 0, &l), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_CloseSession(0), CKR_SESSION_HANDLE_INVALID);
    CK(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &l, &l), CKR_ARGUMENTS_BAD);
    CK(F->C_EncryptInit(h, &m, 1), CKR_FUNCTION_NOT_SUPPORTED);
    CK(F->C_DecryptInit(h, &m, 1), CKR_FUNCTION_NOT_SUPPORTED);
    CK(F->C_CopyObject(h, 1, NULL, 0, &l), CKR_FUNCTION_NOT_SUPPORTED);
    CK(F->C_GetOperationState(h, NULL, &l), CKR_FUNCTION_NOT_SUPPORTED);
    CK(F->C_WrapKey(h, &m, 1, 1, NULL, &l), CKR_FUNCTION_NOT_SUPPORTED);
    CK(F->C_GetFunctionStatus(h), CKR_FUNCTION_NOT_PARALLEL);
    CK(F->C_CloseSession(h), CKR_OK);
}

/* another process changes the token: PIN counters and objects are shared via the file */
static void t_multiprocess(void)
{
    pid_t pid;
    int st = 0;
    CK_SESSION_HANDLE h = open_s(g_slotA, 0);
    CK_OBJECT_HANDLE o[16];
    CK_ATTRIBUTE t[] = {{CKA_LABEL, "from-child", 10}};
    CK_ULONG n;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        /* child: fresh module instance (the fork copy is reinitialised) */
        CK_SESSION_HANDLE c;
        CK_OBJECT_HANDLE co;
        int clen = 0;
        unsigned char *cert;
        CK_ATTRIBUTE ct[6];
        int bad = 0;
        F->C_Finalize(NULL);
        if (F->C_Initialize(NULL) != CKR_OK)
            _exit(10);
        if (F->C_OpenSession(g_slotA, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &c) != CKR_OK)
            _exit(11);
        bad |= F->C_Login(c, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6) != CKR_PIN_INCORRECT;
        cert = make_cert(&clen);
        ct[0].type = CKA_CLASS; ct[0].pValue = &C_CERT; ct[0].ulValueLen = sizeof(C_CERT);
        ct[1].type = CKA_CERTIFICATE_TYPE; ct[1].pValue = &X509T; ct[1].ulValueLen = sizeof(X509T);
        ct[2].type = CKA_TOKEN; ct[2].pValue = (void *)&T; ct[2].ulValueLen = 1;
        ct[3].type = CKA_LABEL; ct[3].pValue = "from-child"; ct[3].ulValueLen = 10;
        ct[4].type = CKA_VALUE; ct[4].pValue = cert; ct[4].ulValueLen = (CK_ULONG)clen;
        bad |= F->C_CreateObject(c, ct, 5, &co) != CKR_OK;
        OPENSSL_free(cert);
        F->C_Finalize(NULL);
        lib_unload();
        _exit(bad ? 12 : 0);
    }
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child process ok (status %d)", st);
    CHECK(tok_flags(g_slotA) & CKF_USER_PIN_COUNT_LOW, "wrong PIN in other process visible here");
    n = find_all(h, t, 1, o, 16);
    CHECK(n == 1, "object created by other process visible");
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    CHECK(!(tok_flags(g_slotA) & CKF_USER_PIN_COUNT_LOW), "counter reset");
    {
        CK_SESSION_HANDLE rw = open_s(g_slotA, 1);
        if (n == 1)
            CK(F->C_DestroyObject(rw, o[0]), CKR_OK);
        CK(F->C_CloseSession(rw), CKR_OK);
    }
    CK(F->C_CloseSession(h), CKR_OK);
}

/* handles are per module instance: look the keys up again after a restart */
static void refind_keys(CK_SESSION_HANDLE h)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &C_PRIV, sizeof(C_PRIV)}, {CKA_LABEL, "sign-key", 8}};
    CK_OBJECT_HANDLE o[4];
    CHECK(find_all(h, t, 2, o, 4) == 1, "find sign-key private");
    g_priv = o[0];
    t[0].pValue = &C_PUB;
    CHECK(find_all(h, t, 2, o, 4) == 1, "find sign-key public");
    g_pub = o[0];
}

typedef struct {
    CK_OBJECT_HANDLE priv, pub;
    int ok;
} thr_arg;

static void *signer(void *p)
{
    thr_arg *a = p;
    CK_SESSION_HANDLE h;
    int i;
    a->ok = 1;
    if (F->C_OpenSession(g_slotA, CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK) {
        a->ok = 0;
        return NULL;
    }
    for (i = 0; i < (g_valgrind ? 3 : 20); i++) {
        unsigned char sig[80];
        CK_ULONG sl = sizeof(sig);
        if (sign(h, CKM_SM2_SM3, NULL, 0, a->priv, "threads", 7, sig, &sl) != CKR_OK ||
            verify(h, CKM_SM2_SM3, NULL, 0, a->pub, "threads", 7, sig, sl) != CKR_OK)
            a->ok = 0;
    }
    F->C_CloseSession(h);
    return NULL;
}

static void t_threads_and_delay(void)
{
    CK_SESSION_HANDLE h;
    pthread_t th[4];
    thr_arg a[4];
    int i;
    struct timespec t0, t1;
    unsigned char sig[80];
    CK_ULONG sl = sizeof(sig);
    long ms;

    h = open_s(g_slotA, 0);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    refind_keys(h);
    for (i = 0; i < 4; i++) {
        a[i].priv = g_priv;
        a[i].pub = g_pub;
        pthread_create(&th[i], NULL, signer, &a[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(a[i].ok, "thread %d signed and verified", i);
    }
    CK(F->C_CloseSession(h), CKR_OK);

    setenv("SOFTUKEY_SIGN_DELAY_MS", "150", 1);
    restart();
    unsetenv("SOFTUKEY_SIGN_DELAY_MS");
    h = open_s(g_slotA, 0);
    CK(login(h, CKU_USER, USER_PIN), CKR_OK);
    refind_keys(h);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CK(sign(h, CKM_SM2_SM3, NULL, 0, g_priv, "slow", 4, sig, &sl), CKR_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms >= 150, "sign delay honoured (%ld ms)", ms);
    CK(F->C_CloseSession(h), CKR_OK);
    restart();
}

static void t_default_kdf(void)
{
    CK_SLOT_ID s;
    char *c;
    if (g_valgrind)
        return;
    unsetenv("SOFTUKEY_KDF_ITER");
    restart();
    s = provision("fox.suk", "FOX001", "default kdf");
    c = read_file_str("fox.suk");
    CHECK(c && strstr(c, "kdf_iter=100000\n"), "default PBKDF2 iterations");
    free(c);
    CHECK(find_priv_count(s, USER_PIN) == 0, "login with default KDF");
    setenv("SOFTUKEY_KDF_ITER", "1000", 1);
    restart();
}

static void cleanup_dir(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
}

int main(int argc, char **argv)
{
    g_libpath = argc > 1 ? argv[1] : "./build/libsoftukey.so";
    g_valgrind = getenv("SOFTUKEY_TEST_VALGRIND") != NULL;
    snprintf(g_dir, sizeof(g_dir), "/tmp/softukey-test-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 2;
    }
    setenv("SOFTUKEY_DIR", g_dir, 1);
    setenv("SOFTUKEY_KDF_ITER", "1000", 1);
    unsetenv("SOFTUKEY_TEST_K");
    unsetenv("SOFTUKEY_MAX_TRIES");
    unsetenv("SOFTUKEY_SIGN_DELAY_MS");
    if (lib_load() != 0)
        return 2;

    t_init();
    t_blank_and_init();
    t_mechs();
    t_keygen_and_attrs();
    t_find();
    t_sign_verify();
    t_import_and_cross();
    t_kat();
    t_digest();
    t_objects();
    t_pin_lifecycle();
    t_pin_counter();
    t_hotplug();
    t_corrupt();
    t_hostile_misc();
    t_multiprocess();
    t_threads_and_delay();
    t_default_kdf();

    CK(F->C_Finalize(NULL), CKR_OK);
    lib_unload();
    cleanup_dir();
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
