/*
 * p11_core.c - global state, slots (token files), sessions, object handles.
 * SoftUKey: an SM2 software UKey - DEVELOPMENT / TEST token only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <limits.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "p11.h"

pthread_mutex_t g_mtx = PTHREAD_MUTEX_INITIALIZER;
int g_init;
unsigned long g_gen;
suk_config g_cfg;

static slot_t **g_slots;
static size_t g_nslots;
static CK_SLOT_ID g_next_slot = 1;

static session_t **g_sess;
static size_t g_nsess;
static CK_SESSION_HANDLE g_next_sess = 1;

static href_t *g_href;
static size_t g_nhref;
unsigned long g_next_suid = 1;

/* ------------------------------------------------------------------ */

size_t slot_count(void) { return g_nslots; }
slot_t *slot_at(size_t i) { return i < g_nslots ? g_slots[i] : NULL; }

slot_t *slot_find(CK_SLOT_ID id)
{
    size_t i;
    for (i = 0; i < g_nslots; i++)
        if (g_slots[i]->id == id)
            return g_slots[i];
    return NULL;
}

static slot_t *slot_by_serial(const char *serial)
{
    size_t i;
    for (i = 0; i < g_nslots; i++)
        if (!strcmp(g_slots[i]->serial, serial))
            return g_slots[i];
    return NULL;
}

size_t session_count(CK_SLOT_ID id, size_t *rw)
{
    size_t i, n = 0, r = 0;
    for (i = 0; i < g_nsess; i++)
        if (g_sess[i]->slot == id) {
            n++;
            if (g_sess[i]->flags & CKF_RW_SESSION)
                r++;
        }
    if (rw)
        *rw = r;
    return n;
}

session_t *session_find(CK_SESSION_HANDLE h)
{
    size_t i;
    if (h == CK_INVALID_HANDLE)
        return NULL;
    for (i = 0; i < g_nsess; i++)
        if (g_sess[i]->h == h)
            return g_sess[i];
    return NULL;
}

void op_clear(sigop_t *op)
{
    if (op->md)
        EVP_MD_CTX_free(op->md);
    suk_cleanse(op, sizeof(*op));
    memset(op, 0, sizeof(*op));
}

static void find_clear(session_t *s)
{
    free(s->found);
    s->found = NULL;
    s->nfound = s->findpos = 0;
    s->find_active = 0;
}

void session_ops_clear(session_t *s)
{
    op_clear(&s->sign);
    op_clear(&s->verify);
    if (s->dig)
        EVP_MD_CTX_free(s->dig);
    s->dig = NULL;
    s->dig_active = s->dig_updated = 0;
    find_clear(s);
}

static void session_free(session_t *s)
{
    size_t i;
    /* destroy session objects owned by this session */
    for (i = 0; i < g_nhref; i++) {
        href_t *r = &g_href[i];
        if (!r->dead && r->sobj && r->owner == s->h) {
            suk_obj_clear(r->sobj);
            free(r->sobj);
            r->sobj = NULL;
            r->dead = 1;
        }
    }
    session_ops_clear(s);
    free(s);
}

void slot_logout(slot_t *sl)
{
    size_t i;
    suk_cleanse(sl->tk, sizeof(sl->tk));
    sl->logged_in = 0;
    sl->login = 0;
    /* terminate crypto and find operations of this slot's sessions */
    for (i = 0; i < g_nsess; i++)
        if (g_sess[i]->slot == sl->id) {
            op_clear(&g_sess[i]->sign);
            op_clear(&g_sess[i]->verify);
            find_clear(g_sess[i]);
        }
}

void session_close(CK_SESSION_HANDLE h)
{
    size_t i;
    for (i = 0; i < g_nsess; i++) {
        if (g_sess[i]->h == h) {
            session_t *s = g_sess[i];
            CK_SLOT_ID sid = s->slot;
            memmove(&g_sess[i], &g_sess[i + 1], (g_nsess - i - 1) * sizeof(*g_sess));
            g_nsess--;
            session_free(s);
            if (session_count(sid, NULL) == 0) {
                slot_t *sl = slot_find(sid);
                if (sl)
                    slot_logout(sl);
            }
            return;
        }
    }
}

void slot_close_all(slot_t *sl)
{
    size_t i = 0;
    while (i < g_nsess) {
        if (g_sess[i]->slot == sl->id)
            session_close(g_sess[i]->h); /* shifts array */
        else
            i++;
    }
    slot_logout(sl);
}

CK_RV session_new(slot_t *sl, CK_FLAGS flags, CK_SESSION_HANDLE *ph)
{
    session_t *s, **ns;
    s = calloc(1, sizeof(*s));
    if (!s)
        return CKR_HOST_MEMORY;
    ns = realloc(g_sess, (g_nsess + 1) * sizeof(*ns));
    if (!ns) {
        free(s);
        return CKR_HOST_MEMORY;
    }
    g_sess = ns;
    s->h = g_next_sess++;
    s->slot = sl->id;
    s->flags = flags;
    g_sess[g_nsess++] = s;
    *ph = s->h;
    return CKR_OK;
}

/* ------------------------------------------------------------------ */
/* object handles */

CK_OBJECT_HANDLE href_token(slot_t *sl, unsigned long uid)
{
    size_t i;
    href_t *nr;
    for (i = 0; i < g_nhref; i++) {
        href_t *r = &g_href[i];
        if (!r->dead && !r->sobj && r->slot == sl->id && r->uid == uid && !strcmp(r->instance, sl->cur_instance))
            return (CK_OBJECT_HANDLE)(i + 1);
    }
    nr = realloc(g_href, (g_nhref + 1) * sizeof(*nr));
    if (!nr)
        return CK_INVALID_HANDLE;
    g_href = nr;
    memset(&g_href[g_nhref], 0, sizeof(href_t));
    g_href[g_nhref].slot = sl->id;
    g_href[g_nhref].uid = uid;
    strcpy(g_href[g_nhref].instance, sl->cur_instance);
    g_nhref++;
    return (CK_OBJECT_HANDLE)g_nhref;
}

CK_OBJECT_HANDLE href_session(slot_t *sl, CK_SESSION_HANDLE owner, suk_obj *o)
{
    href_t *nr = realloc(g_href, (g_nhref + 1) * sizeof(*nr));
    if (!nr)
        return CK_INVALID_HANDLE;
    g_href = nr;
    memset(&g_href[g_nhref], 0, sizeof(href_t));
    g_href[g_nhref].slot = sl->id;
    g_href[g_nhref].uid = o->uid;
    g_href[g_nhref].sobj = o;
    g_href[g_nhref].owner = owner;
    strcpy(g_href[g_nhref].instance, sl->cur_instance);
    g_nhref++;
    return (CK_OBJECT_HANDLE)g_nhref;
}

href_t *href_get(CK_OBJECT_HANDLE h)
{
    if (h == CK_INVALID_HANDLE || h > g_nhref)
        return NULL;
    if (g_href[h - 1].dead)
        return NULL;
    return &g_href[h - 1];
}

size_t href_count(void) { return g_nhref; }
href_t *href_at(size_t i) { return &g_href[i]; }

suk_obj *token_obj_by_uid(slot_t *sl, unsigned long uid)
{
    size_t i;
    if (!sl->tok || uid == SUK_HWF_UID)
        return NULL;
    for (i = 0; i < sl->tok->nobjs; i++)
        if (sl->tok->objs[i].uid == uid)
            return &sl->tok->objs[i];
    return NULL;
}

int obj_visible(slot_t *sl, const suk_obj *o)
{
    if (suk_obj_bool(o, CKA_PRIVATE, 0) && !(sl->logged_in && sl->login == CKU_USER))
        return 0;
    return 1;
}

/* (re)build the virtual PIN counter object from the current token state */
int hwf_build(slot_t *sl)
{
    static const char label[] = "PIN counter";
    suk_obj *o = &sl->hwf;
    const suk_token *t = sl->tok;
    suk_obj_clear(o);
    if (!t)
        return -1;
    o->uid = SUK_HWF_UID;
    if (suk_obj_set_ulong(o, CKA_CLASS, CKO_HW_FEATURE) ||
        suk_obj_set_ulong(o, CKA_HW_FEATURE_TYPE, CKH_SUK_PIN_COUNTER) ||
        suk_obj_set_bool(o, CKA_TOKEN, CK_TRUE) || suk_obj_set_bool(o, CKA_PRIVATE, CK_FALSE) ||
        suk_obj_set_bool(o, CKA_MODIFIABLE, CK_FALSE) || suk_obj_set_bool(o, CKA_COPYABLE, CK_FALSE) ||
        suk_obj_set_bool(o, CKA_DESTROYABLE, CK_FALSE) || suk_obj_set(o, CKA_LABEL, label, sizeof(label) - 1) ||
        suk_obj_set_ulong(o, CKA_SUK_USER_TRIES_LEFT, t->user_left) ||
        suk_obj_set_ulong(o, CKA_SUK_USER_MAX_TRIES, t->user_max) ||
        suk_obj_set_ulong(o, CKA_SUK_SO_TRIES_LEFT, t->so_left) ||
        suk_obj_set_ulong(o, CKA_SUK_SO_MAX_TRIES, t->so_max)) {
        suk_obj_clear(o);
        return -1;
    }
    return 0;
}

int href_is_hwf(const href_t *r)
{
    return r && !r->sobj && r->uid == SUK_HWF_UID;
}

/* resolve an object handle in the context of a (checked) session */
CK_RV obj_resolve(session_t *s, slot_t *sl, CK_OBJECT_HANDLE h, suk_obj **po, href_t **pr)
{
    href_t *r = href_get(h);
    suk_obj *o;
    (void)s;
    if (!r || r->slot != sl->id)
        return CKR_OBJECT_HANDLE_INVALID;
    if (r->sobj) {
        o = r->sobj;
    } else {
        if (strcmp(r->instance, sl->cur_instance)) {
            r->dead = 1;
            return CKR_OBJECT_HANDLE_INVALID;
        }
        if (r->uid == SUK_HWF_UID) {
            if (hwf_build(sl))
                return CKR_HOST_MEMORY;
            *po = &sl->hwf;
            if (pr)
                *pr = r;
            return CKR_OK;
        }
        o = token_obj_by_uid(sl, r->uid);
        if (!o) {
            r->dead = 1;
            return CKR_OBJECT_HANDLE_INVALID;
        }
    }
    *po = o;
    if (pr)
        *pr = r;
    return CKR_OK;
}

/* ------------------------------------------------------------------ */
/* token file scanning */

static int st_same(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void slot_set_tok(slot_t *sl, suk_token *nt /* may be NULL = corrupt */)
{
    const char *ninst = (nt && !nt->blank) ? nt->instance : "";
    if (strcmp(ninst, sl->cur_instance) || !nt) {
        /* re-provisioned / corrupted by someone else: sessions of the old token are gone */
        if (session_count(sl->id, NULL) || sl->logged_in)
            slot_close_all(sl);
    }
    if (sl->tok) {
        suk_token_free(sl->tok);
        free(sl->tok);
    }
    sl->tok = nt;
    sl->corrupt = nt ? 0 : 1;
    strcpy(sl->cur_instance, ninst);
}

static void slot_gone(slot_t *sl)
{
    slot_close_all(sl);
    if (sl->tok) {
        suk_token_free(sl->tok);
        free(sl->tok);
        sl->tok = NULL;
    }
    sl->present = 0;
    sl->corrupt = 0;
    sl->cur_instance[0] = 0;
    memset(&sl->st, 0, sizeof(sl->st));
}

static slot_t *slot_create(const char *serial)
{
    slot_t *sl = calloc(1, sizeof(*sl)), **ns;
    if (!sl)
        return NULL;
    ns = realloc(g_slots, (g_nslots + 1) * sizeof(*ns));
    if (!ns) {
        free(sl);
        return NULL;
    }
    g_slots = ns;
    sl->id = g_next_slot++;
    snprintf(sl->serial, sizeof(sl->serial), "%s", serial);
    g_slots[g_nslots++] = sl;
    return sl;
}

void slots_scan(void)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t nn = 0, i;
    char *seen;

    seen = calloc(g_nslots + 1, 1);
    if (!seen)
        return;
    d = opendir(g_cfg.dir);
    if (d) {
        while ((de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            char **nnames;
            if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".suk"))
                continue;
            nnames = realloc(names, (nn + 1) * sizeof(*names));
            if (!nnames)
                break;
            names = nnames;
            names[nn] = strdup(de->d_name);
            if (!names[nn])
                break;
            nn++;
        }
        closedir(d);
    }
    if (nn)
        qsort(names, nn, sizeof(*names), cmpstr);

    for (i = 0; i < nn; i++) {
        char path[PATH_MAX];
        struct stat st;
        slot_t *sl = NULL;
        size_t j;
        char *buf = NULL, serial[SUK_SERIAL_MAX + 1];
        size_t blen = 0;
        suk_token *nt;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", g_cfg.dir, names[i]) >= sizeof(path))
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        /* unchanged file already known? */
        for (j = 0; j < g_nslots; j++) {
            slot_t *c = g_slots[j];
            if (c->present && !seen[j] && !strcmp(c->path, path) && st_same(&c->st, &st)) {
                sl = c;
                seen[j] = 1;
                break;
            }
        }
        if (sl)
            continue;
        if (suk_read_file(path, &buf, &blen, &st) != 0)
            continue;
        if (suk_peek_serial(buf, blen, serial) != 0) {
            /* no recognisable serial: not a SoftUKey token, skipped */
            suk_cleanse(buf, blen);
            free(buf);
            continue;
        }
        sl = slot_by_serial(serial);
        if (sl) {
            for (j = 0; j < g_nslots; j++)
                if (g_slots[j] == sl)
                    break;
            if (seen[j]) { /* duplicate serial: first file (by name) wins */
                suk_cleanse(buf, blen);
                free(buf);
                continue;
            }
        } else {
            char *ns2;
            sl = slot_create(serial);
            if (!sl) {
                suk_cleanse(buf, blen);
                free(buf);
                continue;
            }
            ns2 = realloc(seen, g_nslots + 1);
            if (!ns2) {
                suk_cleanse(buf, blen);
                free(buf);
                continue;
            }
            seen = ns2;
            seen[g_nslots - 1] = 0;
            j = g_nslots - 1;
        }
        seen[j] = 1;
        nt = calloc(1, sizeof(*nt));
        if (nt && suk_token_parse(buf, blen, nt) != 0) {
            free(nt);
            nt = NULL;
        }
        suk_cleanse(buf, blen);
        free(buf);
        if (!sl->present) {
            sl->present = 1;
            sl->cur_instance[0] = 0;
        }
        slot_set_tok(sl, nt);
        snprintf(sl->path, sizeof(sl->path), "%s", path);
        sl->st = st;
    }
    for (i = 0; i < g_nslots; i++)
        if (g_slots[i]->present && !seen[i])
            slot_gone(g_slots[i]);
    for (i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    free(seen);
}

/* quick presence/consistency check of one slot (used on session calls) */
CK_RV slot_check(slot_t *sl)
{
    struct stat st;
    if (!sl || !sl->present)
        return CKR_DEVICE_REMOVED;
    if (stat(sl->path, &st) != 0 || !st_same(&st, &sl->st))
        slots_scan();
    if (!sl->present)
        return CKR_DEVICE_REMOVED;
    if (sl->corrupt || !sl->tok)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

/* look up a session and verify its token is still there */
CK_RV session_get(CK_SESSION_HANDLE h, session_t **ps, slot_t **psl)
{
    session_t *s = session_find(h);
    slot_t *sl;
    CK_RV rv;
    if (!s)
        return CKR_SESSION_HANDLE_INVALID;
    sl = slot_find(s->slot);
    rv = slot_check(sl);
    s = session_find(h);
    if (rv == CKR_OK && !s)
        rv = CKR_DEVICE_REMOVED;
    if (rv != CKR_OK) {
        if (s && rv == CKR_DEVICE_REMOVED)
            session_close(h);
        return rv;
    }
    if (sl->tok->blank) {
        session_close(h);
        return CKR_DEVICE_REMOVED;
    }
    *ps = s;
    *psl = sl;
    return CKR_OK;
}

/* ------------------------------------------------------------------ */
/* read-modify-write of a token file under flock */

CK_RV token_mutate(slot_t *sl, const char *expect_instance, mutate_fn fn, void *ctx)
{
    int fd = -1, dirty = 0, moved = 0;
    char *buf = NULL, *out = NULL;
    size_t len = 0, olen = 0;
    suk_token t;
    CK_RV rv;
    struct stat st;

    if (!sl->present)
        return CKR_DEVICE_REMOVED;
    if (suk_lock_open(sl->path, &fd) != 0) {
        slots_scan();
        return sl->present ? CKR_DEVICE_ERROR : CKR_DEVICE_REMOVED;
    }
    if (suk_read_fd(fd, &buf, &len) != 0) {
        close(fd);
        return CKR_DEVICE_ERROR;
    }
    if (suk_token_parse(buf, len, &t) != 0) {
        suk_cleanse(buf, len);
        free(buf);
        close(fd);
        return CKR_DEVICE_ERROR;
    }
    suk_cleanse(buf, len);
    free(buf);
    if (strcmp(t.serial, sl->serial) ||
        (expect_instance && (t.blank || strcmp(t.instance, expect_instance)))) {
        suk_token_free(&t);
        close(fd);
        slots_scan();
        return CKR_DEVICE_REMOVED;
    }
    rv = fn(sl, &t, ctx, &dirty);
    if (dirty) {
        out = suk_token_serialize(&t, &olen);
        if (!out) {
            rv = CKR_HOST_MEMORY;
        } else if (suk_write_atomic(sl->path, out, olen, &st) != 0) {
            rv = CKR_DEVICE_ERROR;
        } else {
            suk_token *nt = malloc(sizeof(*nt));
            if (nt) {
                *nt = t; /* move */
                moved = 1;
                if (sl->tok) {
                    suk_token_free(sl->tok);
                    free(sl->tok);
                }
                sl->tok = nt;
                sl->corrupt = 0;
                sl->st = st;
            } else {
                memset(&sl->st, 0, sizeof(sl->st)); /* force re-read */
            }
        }
        if (out) {
            suk_cleanse(out, olen);
            free(out);
        }
    }
    if (!moved)
        suk_token_free(&t);
    close(fd);
    return rv;
}

/* ------------------------------------------------------------------ */

void state_free_all(void)
{
    size_t i;
    while (g_nsess)
        session_close(g_sess[g_nsess - 1]->h);
    free(g_sess);
    g_sess = NULL;
    for (i = 0; i < g_nhref; i++)
        if (!g_href[i].dead && g_href[i].sobj) {
            suk_obj_clear(g_href[i].sobj);
            free(g_href[i].sobj);
        }
    free(g_href);
    g_href = NULL;
    g_nhref = 0;
    for (i = 0; i < g_nslots; i++) {
        slot_t *sl = g_slots[i];
        if (sl->tok) {
            suk_token_free(sl->tok);
            free(sl->tok);
        }
        suk_obj_clear(&sl->hwf);
        suk_cleanse(sl, sizeof(*sl));
        free(sl);
    }
    free(g_slots);
    g_slots = NULL;
    g_nslots = 0;
    g_next_slot = 1;
    g_next_sess = 1;
    g_next_suid = 1;
}

void slots_mark_reported(void)
{
    size_t i;
    for (i = 0; i < g_nslots; i++)
        g_slots[i]->reported = g_slots[i]->present;
}
