/* p11_obj.h - object helpers shared between object and crypto code */
#ifndef SUK_P11_OBJ_H
#define SUK_P11_OBJ_H
#include "p11.h"

CK_RV obj_build(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS forced_class, int generated,
                suk_obj *o, unsigned char d[32], int *have_d);
CK_RV obj_store(session_t *s, slot_t *sl, suk_obj **objs, const unsigned char **ds, size_t n,
                CK_OBJECT_HANDLE *handles);
int obj_set_point(suk_obj *o, const unsigned char pub[65]);
int obj_pub_point(const suk_obj *o, unsigned char pub[65]);
void obj_make_aad(char *out, size_t n, const slot_t *sl, int token, unsigned long uid);

#endif
