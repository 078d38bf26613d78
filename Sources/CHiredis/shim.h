// Debian 12's libhiredis-dev (hiredis 0.14). The variadic redisCommand does not import into Swift; the Swift side
// uses redisCommandArgv.
#ifndef TOKENMINT_CHIREDIS_SHIM_H
#define TOKENMINT_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
