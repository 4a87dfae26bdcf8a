/*
 * store.c - token file format, atomic writes, locking, object attribute helpers.
 *
 * File format (text, one record per line, binary values in lower-case hex):
 *   SOFTUKEY-TOKEN 1
 *   serial=<S>            model=<M>            label=<hex>
 *   instance=<16 hex>     kdf=pbkdf2-hmac-sha256   kdf_iter=<N>
 *   user_max_tries=<N>    user_tries_left=<N>  so_max_tries=<N>  so_tries_left=<N>
 *   so_salt=<hex16>       so_wrap=<hex60>      [user_salt=<hex16> user_wrap=<hex60>]
 *   next_uid=<N>
 *   obj=<uid>             (followed by its attributes)
 *   a=<type hex>:<value hex>
 *   ...
 *   end=<number of objects>
 * A blank (factory) key is the single line: SOFTUKEY-BLANK serial=<S> [model=<M>]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "internal.h"

#define SUK_MAX_FILE (16u * 1024u * 1024u)

/* ---------------- object helpers ---------------- */

suk_attr *suk_obj_get(const suk_obj *o, CK_ATTRIBUTE_TYPE t)
{
    size_t i;
    for (i = 0; i < o->n; i++)
        if (o->a[i].type == t)
            return &o->a[i];
    return NULL;
}

int suk_obj_set(suk_obj *o, CK_ATTRIBUTE_TYPE t, const void *v, CK_ULONG len)
{
    suk_attr *a = suk_obj_get(o, t);
    unsigned char *nv = malloc(len ? len : 1);
    if (!nv)
        return -1;
    if (len)
        memcpy(nv, v, len);
    if (!a) {
        suk_attr *na = realloc(o->a, (o->n + 1) * sizeof(*na));
        if (!na) {
            free(nv);
            return -1;
        }
        o->a = na;
        a = &o->a[o->n++];
        a->type = t;
    } else {
        suk_cleanse(a->val, a->len);
        free(a->val);
    }
    a->val = nv;
    a->len = len;
    return 0;
}

int suk_obj_set_bool(suk_obj *o, CK_ATTRIBUTE_TYPE t, CK_BBOOL b)
{
    return suk_obj_set(o, t, &b, sizeof(b));
}

int suk_obj_set_ulong(suk_obj *o, CK_ATTRIBUTE_TYPE t, CK_ULONG v)
{
    return suk_obj_set(o, t, &v, sizeof(v));
}

void suk_obj_del(suk_obj *o, CK_ATTRIBUTE_TYPE t)
{
    size_t i;
    for (i = 0; i < o->n; i++) {
        if (o->a[i].type == t) {
            suk_cleanse(o->a[i].val, o->a[i].len);
            free(o->a[i].val);
            memmove(&o->a[i], &o->a[i + 1], (o->n - i - 1) * sizeof(suk_attr));
            o->n--;
            return;
        }
    }
}

int suk_obj_bool(const suk_obj *o, CK_ATTRIBUTE_TYPE t, int dflt)
{
    suk_attr *a = suk_obj_get(o, t);
    if (!a || a->len != sizeof(CK_BBOOL))
        return dflt;
    return a->val[0] ? 1 : 0;
}

int suk_obj_ulong(const suk_obj *o, CK_ATTRIBUTE_TYPE t, CK_ULONG *v)
{
    suk_attr *a = suk_obj_get(o, t);
    if (!a || a->len != sizeof(CK_ULONG))
        return -1;
    memcpy(v, a->val, sizeof(CK_ULONG));
    return 0;
}

void suk_obj_clear(suk_obj *o)
{
    size_t i;
    for (i = 0; i < o->n; i++) {
        suk_cleanse(o->a[i].val, o->a[i].len);
        free(o->a[i].val);
    }
    free(o->a);
    o->a = NULL;
    o->n = 0;
}

int suk_obj_copy(suk_obj *dst, const suk_obj *src)
{
    size_t i;
    dst->uid = src->uid;
    dst->n = 0;
    dst->a = NULL;
    for (i = 0; i < src->n; i++)
        if (suk_obj_set(dst, src->a[i].type, src->a[i].val, src->a[i].len) != 0) {
            suk_obj_clear(dst);
            return -1;
        }
    return 0;
}

size_t suk_obj_size(const suk_obj *o)
{
    size_t i, s = 16;
    for (i = 0; i < o->n; i++)
        s += 16 + o->a[i].len;
    return s;
}

/* ---------------- token ---------------- */

void suk_token_free(suk_token *t)
{
    size_t i;
    if (!t)
        return;
    for (i = 0; i < t->nobjs; i++)
        suk_obj_clear(&t->objs[i]);
    free(t->objs);
    suk_cleanse(t, sizeof(*t));
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* decode hex of exactly len chars; returns malloc'd buffer (or exact into out if out!=NULL) */
static int unhex(const char *s, size_t slen, unsigned char *out, size_t outmax, size_t *outlen)
{
    size_t i;
    if (slen % 2 || slen / 2 > outmax)
        return -1;
    for (i = 0; i < slen / 2; i++) {
        int h = hexval((unsigned char)s[2 * i]), l = hexval((unsigned char)s[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (unsigned char)(h << 4 | l);
    }
    *outlen = slen / 2;
    return 0;
}

static int parse_uint(const char *s, size_t len, unsigned long *v)
{
    char tmp[32];
    char *end;
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    if (tmp[0] < '0' || tmp[0] > '9')
        return -1;
    errno = 0;
    *v = strtoul(tmp, &end, 10);
    if (errno || *end)
        return -1;
    return 0;
}

static int valid_serial(const char *s, size_t len)
{
    size_t i;
    if (len == 0 || len > SUK_SERIAL_MAX)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* parse "SOFTUKEY-BLANK serial=<S> [model=<M>]" */
static int parse_blank(const char *buf, size_t len, suk_token *t)
{
    const char *p = buf + 14, *end = buf + len;
    int have_serial = 0;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    memset(t, 0, sizeof(*t));
    t->blank = 1;
    strcpy(t->model, "SM2 SoftUKey");
    while (p < end) {
        const char *w, *we, *eq;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break;
        w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        we = p;
        if (memchr(w, '\n', (size_t)(we - w)))
            return -1;
        eq = memchr(w, '=', (size_t)(we - w));
        if (!eq)
            return -1;
        if ((size_t)(eq - w) == 6 && !memcmp(w, "serial", 6)) {
            if (!valid_serial(eq + 1, (size_t)(we - eq - 1)))
                return -1;
            memcpy(t->serial, eq + 1, (size_t)(we - eq - 1));
            t->serial[we - eq - 1] = 0;
            have_serial = 1;
        } else if ((size_t)(eq - w) == 5 && !memcmp(w, "model", 5)) {
            size_t ml = (size_t)(we - eq - 1);
            if (ml > SUK_MODEL_MAX)
                ml = SUK_MODEL_MAX;
            memcpy(t->model, eq + 1, ml);
            t->model[ml] = 0;
        } /* unknown words ignored */
    }
    return have_serial ? 0 : -1;
}

int suk_peek_serial(const char *buf, size_t len, char *serial)
{
    const char *p = buf, *end = buf + len;
    suk_token t;
    if (len >= 14 && !memcmp(buf, "SOFTUKEY-BLANK", 14)) {
        if (parse_blank(buf, len, &t) != 0)
            return -1;
        strcpy(serial, t.serial);
        return 0;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le - p > 7 && !memcmp(p, "serial=", 7) && valid_serial(p + 7, (size_t)(le - p - 7))) {
            memcpy(serial, p + 7, (size_t)(le - p - 7));
            serial[le - p - 7] = 0;
            return 0;
        }
        p = le + 1;
    }
    return -1;
}

#define KEYIS(k) (kl == sizeof(k) - 1 && !memcmp(line, k, kl))

int suk_token_parse(const char *buf, size_t len, suk_token *t)
{
    const char *p = buf, *end = buf + len;
    int first = 1, have_end = 0;
    unsigned long endcount = 0, u;
    size_t olen;
    unsigned seen = 0;
    suk_obj *cur = NULL;

    if (len >= 14 && !memcmp(buf, "SOFTUKEY-BLANK", 14))
        return parse_blank(buf, len, t);
    memset(t, 0, sizeof(*t));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *line = p, *eq, *v;
        size_t kl, vl;
        p = le + 1;
        if (le > line && le[-1] == '\r')
            le--;
        if (le == line)
            continue;
        if (have_end)
            goto bad; /* data after end marker */
        if (first) {
            if ((size_t)(le - line) != 16 || memcmp(line, "SOFTUKEY-TOKEN 1", 16))
                goto bad;
            first = 0;
            continue;
        }
        eq = memchr(line, '=', (size_t)(le - line));
        if (!eq)
            goto bad;
        kl = (size_t)(eq - line);
        v = eq + 1;
        vl = (size_t)(le - v);
        if (KEYIS("serial")) {
            if (!valid_serial(v, vl))
                goto bad;
            memcpy(t->serial, v, vl);
            t->serial[vl] = 0;
            seen |= 1;
        } else if (KEYIS("model")) {
            if (vl > SUK_MODEL_MAX)
                goto bad;
            memcpy(t->model, v, vl);
            t->model[vl] = 0;
        } else if (KEYIS("label")) {
            if (unhex(v, vl, t->label, SUK_LABEL_MAX, &t->label_len))
                goto bad;
        } else if (KEYIS("instance")) {
            if (vl != SUK_INST_LEN)
                goto bad;
            memcpy(t->instance, v, vl);
            t->instance[vl] = 0;
            seen |= 2;
        } else if (KEYIS("kdf")) {
            if (vl != 18 || memcmp(v, "pbkdf2-hmac-sha256", 18))
                goto bad;
        } else if (KEYIS("kdf_iter")) {
            if (parse_uint(v, vl, &u) || u == 0 || u > 100000000UL)
                goto bad;
            t->kdf_iter = (unsigned)u;
            seen |= 4;
        } else if (KEYIS("user_max_tries")) {
            if (parse_uint(v, vl, &u) || u == 0 || u > 1000)
                goto bad;
            t->user_max = (unsigned)u;
            seen |= 8;
        } else if (KEYIS("user_tries_left")) {
            if (parse_uint(v, vl, &u) || u > 1000)
                goto bad;
            t->user_left = (unsigned)u;
            seen |= 16;
        } else if (KEYIS("so_max_tries")) {
            if (parse_uint(v, vl, &u) || u == 0 || u > 1000)
                goto bad;
            t->so_max = (unsigned)u;
            seen |= 32;
        } else if (KEYIS("so_tries_left")) {
            if (parse_uint(v, vl, &u) || u > 1000)
                goto bad;
            t->so_left = (unsigned)u;
            seen |= 64;
        } else if (KEYIS("so_salt")) {
            if (unhex(v, vl, t->so_salt, SUK_SALT_LEN, &olen) || olen != SUK_SALT_LEN)
                goto bad;
            seen |= 128;
        } else if (KEYIS("so_wrap")) {
            if (unhex(v, vl, t->so_wrap, SUK_WRAP_LEN, &olen) || olen != SUK_WRAP_LEN)
                goto bad;
            seen |= 256;
        } else if (KEYIS("user_salt")) {
            if (unhex(v, vl, t->user_salt, SUK_SALT_LEN, &olen) || olen != SUK_SALT_LEN)
                goto bad;
            t->has_user |= 1;
        } else if (KEYIS("user_wrap")) {
            if (unhex(v, vl, t->user_wrap, SUK_WRAP_LEN, &olen) || olen != SUK_WRAP_LEN)
                goto bad;
            t->has_user |= 2;
        } else if (KEYIS("next_uid")) {
            if (parse_uint(v, vl, &u) || u == 0)
                goto bad;
            t->next_uid = u;
            seen |= 512;
        } else if (KEYIS("obj")) {
            suk_obj *no;
            size_t i;
            if (parse_uint(v, vl, &u) || u == 0)
                goto bad;
            for (i = 0; i < t->nobjs; i++)
                if (t->objs[i].uid == u)
                    goto bad;
            no = realloc(t->objs, (t->nobjs + 1) * sizeof(*no));
            if (!no)
                goto bad;
            t->objs = no;
            cur = &t->objs[t->nobjs++];
            cur->uid = u;
            cur->n = 0;
            cur->a = NULL;
        } else if (KEYIS("a")) {
            const char *colon = memchr(v, ':', vl);
            unsigned long type = 0;
            unsigned char *val;
            size_t i, hl;
            if (!cur || !colon || colon == v || colon - v > 16)
                goto bad;
            for (i = 0; i < (size_t)(colon - v); i++) {
                int h = hexval((unsigned char)v[i]);
                if (h < 0)
                    goto bad;
                type = type << 4 | (unsigned long)h;
            }
            hl = (size_t)(le - colon - 1);
            if (hl % 2)
                goto bad;
            val = malloc(hl / 2 + 1);
            if (!val)
                goto bad;
            if (unhex(colon + 1, hl, val, hl / 2, &olen) || suk_obj_get(cur, type) ||
                suk_obj_set(cur, type, val, (CK_ULONG)olen)) {
                free(val);
                goto bad;
            }
            suk_cleanse(val, olen);
            free(val);
        } else if (KEYIS("end")) {
            if (parse_uint(v, vl, &endcount))
                goto bad;
            have_end = 1;
        }
        /* unknown keys are ignored (forward compatibility) */
    }
    if (first || !have_end || endcount != t->nobjs || (seen & 1023) != 1023)
        goto bad;
    if (t->has_user != 0 && t->has_user != 3)
        goto bad;
    t->has_user = t->has_user ? 1 : 0;
    if (t->user_left > t->user_max || t->so_left > t->so_max)
        goto bad;
    {
        size_t i;
        for (i = 0; i < t->nobjs; i++)
            if (t->objs[i].uid >= t->next_uid)
                goto bad;
    }
    if (!t->model[0])
        strcpy(t->model, "SM2 SoftUKey");
    return 0;
bad:
    suk_token_free(t);
    return -1;
}

/* --------- serializer --------- */
typedef struct {
    char *b;
    size_t len, cap;
    int err;
} sbuf;

static void sb_put(sbuf *s, const char *d, size_t n)
{
    if (s->err)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 4096;
        char *nb;
        while (nc < s->len + n + 1)
            nc *= 2;
        nb = malloc(nc);
        if (!nb) {
            s->err = 1;
            return;
        }
        if (s->b) {
            memcpy(nb, s->b, s->len);
            suk_cleanse(s->b, s->cap);
            free(s->b);
        }
        s->b = nb;
        s->cap = nc;
    }
    memcpy(s->b + s->len, d, n);
    s->len += n;
    s->b[s->len] = 0;
}

static void sb_str(sbuf *s, const char *str)
{
    sb_put(s, str, strlen(str));
}

static void sb_hex(sbuf *s, const unsigned char *d, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char tmp[128];
    size_t i, j = 0;
    for (i = 0; i < n; i++) {
        tmp[j++] = hx[d[i] >> 4];
        tmp[j++] = hx[d[i] & 15];
        if (j >= sizeof(tmp) - 2) {
            sb_put(s, tmp, j);
            j = 0;
        }
    }
    sb_put(s, tmp, j);
}

static void sb_kv_u(sbuf *s, const char *k, unsigned long v)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s=%lu\n", k, v);
    sb_str(s, tmp);
}

char *suk_token_serialize(const suk_token *t, size_t *outlen)
{
    sbuf s = {0};
    size_t i, j;
    if (t->blank) {
        sb_str(&s, "SOFTUKEY-BLANK serial=");
        sb_str(&s, t->serial);
        sb_str(&s, " model=");
        sb_str(&s, t->model);
        sb_str(&s, "\n");
    } else {
        sb_str(&s, "SOFTUKEY-TOKEN 1\nserial=");
        sb_str(&s, t->serial);
        sb_str(&s, "\nmodel=");
        sb_str(&s, t->model);
        sb_str(&s, "\nlabel=");
        sb_hex(&s, t->label, t->label_len);
        sb_str(&s, "\ninstance=");
        sb_str(&s, t->instance);
        sb_str(&s, "\nkdf=pbkdf2-hmac-sha256\n");
        sb_kv_u(&s, "kdf_iter", t->kdf_iter);
        sb_kv_u(&s, "user_max_tries", t->user_max);
        sb_kv_u(&s, "user_tries_left", t->user_left);
        sb_kv_u(&s, "so_max_tries", t->so_max);
        sb_kv_u(&s, "so_tries_left", t->so_left);
        sb_str(&s, "so_salt=");
        sb_hex(&s, t->so_salt, SUK_SALT_LEN);
        sb_str(&s, "\nso_wrap=");
        sb_hex(&s, t->so_wrap, SUK_WRAP_LEN);
        sb_str(&s, "\n");
        if (t->has_user) {
            sb_str(&s, "user_salt=");
            sb_hex(&s, t->user_salt, SUK_SALT_LEN);
            sb_str(&s, "\nuser_wrap=");
            sb_hex(&s, t->user_wrap, SUK_WRAP_LEN);
            sb_str(&s, "\n");
        }
        sb_kv_u(&s, "next_uid", t->next_uid);
        for (i = 0; i < t->nobjs; i++) {
            const suk_obj *o = &t->objs[i];
            sb_kv_u(&s, "obj", o->uid);
            for (j = 0; j < o->n; j++) {
                char tmp[40];
                snprintf(tmp, sizeof(tmp), "a=%lx:", (unsigned long)o->a[j].type);
                sb_str(&s, tmp);
                sb_hex(&s, o->a[j].val, o->a[j].len);
                sb_str(&s, "\n");
            }
        }
        sb_kv_u(&s, "end", t->nobjs);
    }
    if (s.err) {
        if (s.b) {
            suk_cleanse(s.b, s.cap);
            free(s.b);
        }
        return NULL;
    }
    *outlen = s.len;
    return s.b;
}

/* ---------------- file I/O ---------------- */

int suk_read_fd(int fd, char **buf, size_t *len)
{
    size_t cap = 8192, l = 0;
    char *b = malloc(cap + 1);
    if (!b)
        return -1;
    for (;;) {
        ssize_t r;
        if (l == cap) {
            char *nb;
            if (cap >= SUK_MAX_FILE) {
                free(b);
                return -1;
            }
            nb = realloc(b, cap * 2 + 1);
            if (!nb) {
                free(b);
                return -1;
            }
            b = nb;
            cap *= 2;
        }
        r = read(fd, b + l, cap - l);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            free(b);
            return -1;
        }
        if (r == 0)
            break;
        l += (size_t)r;
    }
    b[l] = 0;
    *buf = b;
    *len = l;
    return 0;
}

int suk_read_file(const char *path, char **buf, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rv;
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    rv = suk_read_fd(fd, buf, len);
    close(fd);
    return rv;
}

int suk_lock_open(const char *path, int *fd_out)
{
    int tries;
    for (tries = 0; tries < 50; tries++) {
        struct stat a, b;
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return -1;
        while (flock(fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                close(fd);
                return -1;
            }
        }
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            *fd_out = fd;
            return 0;
        }
        close(fd); /* file was replaced while we waited: retry on the new one */
    }
    return -1;
}

static int write_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int suk_write_atomic(const char *path, const char *buf, size_t len, struct stat *st_out)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 64];
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    int fd, dfd, n;
    if (strlen(path) >= PATH_MAX)
        return -1;
    if (slash) {
        memcpy(dir, path, dl);
        dir[dl] = 0;
        if (dl == 0)
            strcpy(dir, "/");
    } else {
        strcpy(dir, ".");
    }
    n = snprintf(tmp, sizeof(tmp), "%.*s%s.%s.%ld.tmp", (int)dl, path, slash ? "/" : "",
                 slash ? slash + 1 : path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    /* identity of the new file = identity of the temp inode (survives rename) */
    if (st_out && fstat(fd, st_out) != 0)
        memset(st_out, 0, sizeof(*st_out));
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}
