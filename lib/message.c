/* Placeholder until the MIME parser lands: records nothing useful. */
#include "message.h"
int message_parse(const char *data, size_t len, struct buf *blob)
{
    (void)data; (void)len;
    buf_appendstr(blob, "");
    return -1;
}
