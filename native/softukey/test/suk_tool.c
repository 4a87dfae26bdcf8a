/*
 * suk_tool.c - tiny PKCS#11 client used by interop.sh for the steps
 * pkcs11-tool cannot do with a vendor key type (CKK_SM2):
 *   suk_tool LIB keygen  SERIAL PIN LABEL IDHEX
 *   suk_tool LIB pubkey  SERIAL LABEL OUT.pem        (SPKI from CKA_EC_POINT)
 *   suk_tool LIB verify  SERIAL LABEL MECHHEX MSGFILE SIGFILE [ID]
 *   suk_tool LIB importpub SERIAL LABEL IDHEX PUB.pem   (token public key object)
 * Exit status 0 = success.
 */
#include "common.h"
#include <openssl/pem.h>
#include <openssl/x509.h>

static CK_SLOT_ID find_slot(const char *serial)
{
    CK_SLOT_ID list[64];
    CK_ULONG n = 64, i;
    if (F->C_GetSlotList(CK_TRUE, list, &n) != CKR_OK)
        return (CK_SLOT_ID)-1;
    for (i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        char s[17];
        size_t l;
        if (F->C_GetTokenInfo(list[i], &ti) != CKR_OK)
            continue;
        memcpy(s, ti.serialNumber, 16);
        s[16] = 0;
        l = strlen(s);
        while (l && s[l - 1] == ' ')
            s[--l] = 0;
        if (!strcmp(s, serial))
            return list[i];
    }
    return (CK_SLOT_ID)-1;
}

static CK_OBJECT_HANDLE find_obj(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE o = 0;
    CK_ULONG n = 0;
    F->C_FindObjectsInit(h, t, 2);
    F->C_FindObjects(h, &o, 1, &n);
    F->C_FindObjectsFinal(h);
    return n ? o : 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE h;
    CK_RV rv;
    int ret = 1;
    if (argc < 4) {
        fprintf(stderr, "usage: see source\n");
        return 2;
    }
    g_libpath = argv[1];
    if (lib_load() || F->C_Initialize(NULL) != CKR_OK)
        return 2;
    slot = find_slot(argv[3]);
    if (slot == (CK_SLOT_ID)-1 ||
        F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h) != CKR_OK) {
        fprintf(stderr, "token %s not found\n", argv[3]);
        goto out;
    }
    if (!strcmp(argv[2], "keygen") && argc == 7) {
        CK_MECHANISM m = {CKM_SM2_KEY_PAIR_GEN, NULL, 0};
        CK_BBOOL t = CK_TRUE;
        unsigned char id[64];
        int idl = hex2bin(argv[6], id, sizeof(id));
        CK_ATTRIBUTE pt[] = {{CKA_TOKEN, &t, 1}, {CKA_LABEL, argv[5], strlen(argv[5])}, {CKA_ID, id, (CK_ULONG)idl}};
        CK_ATTRIBUTE vt[] = {{CKA_TOKEN, &t, 1}, {CKA_LABEL, argv[5], strlen(argv[5])}, {CKA_ID, id, (CK_ULONG)idl}};
        CK_OBJECT_HANDLE a, b;
        if ((rv = F->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)argv[4], strlen(argv[4]))) != CKR_OK ||
            (rv = F->C_GenerateKeyPair(h, &m, pt, 3, vt, 3, &a, &b)) != CKR_OK) {
            fprintf(stderr, "keygen failed: 0x%lx\n", (unsigned long)rv);
            goto out;
        }
        ret = 0;
    } else if (!strcmp(argv[2], "pubkey") && argc == 6) {
        CK_OBJECT_HANDLE o = find_obj(h, CKO_PUBLIC_KEY, argv[4]);
        unsigned char pt[80], spki[128];
        static const unsigned char pre[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D,
                                            0x02, 0x01, 0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82,
                                            0x2D, 0x03, 0x42, 0x00};
        CK_ATTRIBUTE a = {CKA_EC_POINT, pt, sizeof(pt)};
        const unsigned char *p = spki;
        EVP_PKEY *k;
        FILE *f;
        if (!o || F->C_GetAttributeValue(h, o, &a, 1) != CKR_OK || a.ulValueLen != 67) {
            fprintf(stderr, "public key not found\n");
            goto out;
        }
        /* SM2 SubjectPublicKeyInfo: id-ecPublicKey + 1.2.156.10197.1.301 */
        memcpy(spki, pre, sizeof(pre));
        memcpy(spki + sizeof(pre), pt + 2, 65);
        k = d2i_PUBKEY(NULL, &p, (long)(sizeof(pre) + 65));
        f = fopen(argv[5], "w");
        if (k && f && PEM_write_PUBKEY(f, k))
            ret = 0;
        if (f)
            fclose(f);
        EVP_PKEY_free(k);
    } else if (!strcmp(argv[2], "verify") && (argc == 8 || argc == 9)) {
        CK_OBJECT_HANDLE o = find_obj(h, CKO_PUBLIC_KEY, argv[4]);
        CK_MECHANISM m = {strtoul(argv[5], NULL, 16), NULL, 0};
        size_t ml = 0, sl = 0;
        unsigned char *msg = slurp(argv[6], &ml), *sig = slurp(argv[7], &sl);
        if (argc == 9) {
            m.pParameter = argv[8];
            m.ulParameterLen = strlen(argv[8]);
        }
        if (o && msg && sig) {
            rv = F->C_VerifyInit(h, &m, o);
            if (rv == CKR_OK)
                rv = F->C_Verify(h, msg, ml, sig, sl);
            if (rv == CKR_OK)
                ret = 0;
            else
                fprintf(stderr, "verify: 0x%lx\n", (unsigned long)rv);
        }
        free(msg);
        free(sig);
    } else if (!strcmp(argv[2], "importpub") && argc == 7) {
        FILE *f = fopen(argv[6], "r");
        EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
        unsigned char pt[67], id[64];
        size_t pl = 0;
        int idl = hex2bin(argv[5], id, sizeof(id));
        CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
        CK_KEY_TYPE kt = CKK_SM2;
        CK_BBOOL t = CK_TRUE;
        CK_ATTRIBUTE at[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                             {CKA_TOKEN, &t, 1}, {CKA_LABEL, argv[4], strlen(argv[4])},
                             {CKA_ID, id, (CK_ULONG)idl}, {CKA_EC_POINT, pt, 67}};
        CK_OBJECT_HANDLE o;
        if (f)
            fclose(f);
        pt[0] = 0x04;
        pt[1] = 0x41;
        if (k && EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt + 2, 65, &pl) == 1 && pl == 65 &&
            (rv = F->C_CreateObject(h, at, 6, &o)) == CKR_OK)
            ret = 0;
        else
            fprintf(stderr, "importpub failed\n");
        EVP_PKEY_free(k);
    } else {
        fprintf(stderr, "bad command\n");
    }
out:
    F->C_Finalize(NULL);
    lib_unload();
    return ret;
}
