// The Linux uAPI request numbers and struct sizes Swift cannot import: `_IOWR(...)` and
// `SPI_IOC_MESSAGE(n)` are function-like macros, and `ioctl` is variadic. Everything here is
// taken from the kernel headers at build time, so the numbers always match the installed uAPI.
#ifndef CLINUXIO_H
#define CLINUXIO_H

#ifdef __linux__
#include <linux/gpio.h>
#include <linux/i2c.h>
#include <linux/i2c-dev.h>
#include <linux/spi/spidev.h>
#include <stddef.h>

// GPIO character device, uAPI v2.
extern const unsigned long CLINUXIO_GPIO_GET_CHIPINFO_IOCTL;
extern const unsigned long CLINUXIO_GPIO_V2_GET_LINEINFO_IOCTL;
extern const unsigned long CLINUXIO_GPIO_V2_GET_LINE_IOCTL;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_SET_VALUES_IOCTL;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_GET_VALUES_IOCTL;

extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_USED;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_ACTIVE_LOW;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_INPUT;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_OUTPUT;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_RISING;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_FALLING;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_DISABLED;
extern const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME;
extern const unsigned int CLINUXIO_GPIO_V2_LINE_ATTR_ID_FLAGS;
extern const unsigned int CLINUXIO_GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
extern const unsigned int CLINUXIO_GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
extern const unsigned int CLINUXIO_GPIO_V2_LINE_EVENT_RISING_EDGE;
extern const unsigned int CLINUXIO_GPIO_V2_LINE_EVENT_FALLING_EDGE;
extern const unsigned int CLINUXIO_GPIO_V2_LINES_MAX;
extern const unsigned int CLINUXIO_GPIO_V2_LINE_NUM_ATTRS_MAX;
extern const unsigned int CLINUXIO_GPIO_MAX_NAME_SIZE;

extern const size_t CLINUXIO_SIZEOF_GPIOCHIP_INFO;
extern const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_INFO;
extern const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_REQUEST;
extern const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_CONFIG;
extern const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_CONFIG_ATTRIBUTE;
extern const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_EVENT;
extern const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_VALUES;

// Field offsets the Swift encoders write to.
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_CONSUMER;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_CONFIG;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_NUM_LINES;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_EVENT_BUFFER_SIZE;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_FD;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_CONFIG_NUM_ATTRS;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_CONFIG_ATTRS;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_INFO_OFFSET;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_INFO_FLAGS;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_ID;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_OFFSET;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_SEQNO;
extern const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_LINE_SEQNO;
extern const size_t CLINUXIO_OFFSETOF_GPIOCHIP_INFO_LABEL;
extern const size_t CLINUXIO_OFFSETOF_GPIOCHIP_INFO_LINES;

// I2C (i2c-dev).
extern const unsigned long CLINUXIO_I2C_SLAVE;
extern const unsigned long CLINUXIO_I2C_FUNCS;
extern const unsigned long CLINUXIO_I2C_RDWR;
extern const unsigned long CLINUXIO_I2C_SMBUS;
extern const unsigned short CLINUXIO_I2C_M_RD;
extern const size_t CLINUXIO_SIZEOF_I2C_MSG;
extern const size_t CLINUXIO_SIZEOF_I2C_RDWR_IOCTL_DATA;

// SPI (spidev).
extern const unsigned long CLINUXIO_SPI_IOC_MESSAGE_1;
extern const unsigned long CLINUXIO_SPI_IOC_WR_MODE;
extern const unsigned long CLINUXIO_SPI_IOC_RD_MODE;
extern const unsigned long CLINUXIO_SPI_IOC_WR_BITS_PER_WORD;
extern const unsigned long CLINUXIO_SPI_IOC_WR_MAX_SPEED_HZ;
extern const size_t CLINUXIO_SIZEOF_SPI_IOC_TRANSFER;

/// `ioctl(fd, request, arg)`; returns -1 and sets errno on failure, like the libc call.
int clinuxio_ioctl(int fd, unsigned long request, void *arg);

/// Reads errno (a macro over a thread-local in glibc) for callers that need it right after a call.
int clinuxio_errno(void);

#endif /* __linux__ */
#endif /* CLINUXIO_H */
