#ifndef SMOLLAMA_CMOSQUITTO_SHIM_H
#define SMOLLAMA_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#endif
