#include "CLinuxIO.h"

#ifdef __linux__
#include <errno.h>
#include <sys/ioctl.h>

const unsigned long CLINUXIO_GPIO_GET_CHIPINFO_IOCTL = GPIO_GET_CHIPINFO_IOCTL;
const unsigned long CLINUXIO_GPIO_V2_GET_LINEINFO_IOCTL = GPIO_V2_GET_LINEINFO_IOCTL;
const unsigned long CLINUXIO_GPIO_V2_GET_LINE_IOCTL = GPIO_V2_GET_LINE_IOCTL;
const unsigned long CLINUXIO_GPIO_V2_LINE_SET_VALUES_IOCTL = GPIO_V2_LINE_SET_VALUES_IOCTL;
const unsigned long CLINUXIO_GPIO_V2_LINE_GET_VALUES_IOCTL = GPIO_V2_LINE_GET_VALUES_IOCTL;

const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_USED = GPIO_V2_LINE_FLAG_USED;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_ACTIVE_LOW = GPIO_V2_LINE_FLAG_ACTIVE_LOW;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_INPUT = GPIO_V2_LINE_FLAG_INPUT;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_OUTPUT = GPIO_V2_LINE_FLAG_OUTPUT;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_RISING = GPIO_V2_LINE_FLAG_EDGE_RISING;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_FALLING = GPIO_V2_LINE_FLAG_EDGE_FALLING;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_PULL_UP = GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN = GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_DISABLED = GPIO_V2_LINE_FLAG_BIAS_DISABLED;
const unsigned long CLINUXIO_GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME = GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME;
const unsigned int CLINUXIO_GPIO_V2_LINE_ATTR_ID_FLAGS = GPIO_V2_LINE_ATTR_ID_FLAGS;
const unsigned int CLINUXIO_GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
const unsigned int CLINUXIO_GPIO_V2_LINE_ATTR_ID_DEBOUNCE = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
const unsigned int CLINUXIO_GPIO_V2_LINE_EVENT_RISING_EDGE = GPIO_V2_LINE_EVENT_RISING_EDGE;
const unsigned int CLINUXIO_GPIO_V2_LINE_EVENT_FALLING_EDGE = GPIO_V2_LINE_EVENT_FALLING_EDGE;
const unsigned int CLINUXIO_GPIO_V2_LINES_MAX = GPIO_V2_LINES_MAX;
const unsigned int CLINUXIO_GPIO_V2_LINE_NUM_ATTRS_MAX = GPIO_V2_LINE_NUM_ATTRS_MAX;
const unsigned int CLINUXIO_GPIO_MAX_NAME_SIZE = GPIO_MAX_NAME_SIZE;

const size_t CLINUXIO_SIZEOF_GPIOCHIP_INFO = sizeof(struct gpiochip_info);
const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_INFO = sizeof(struct gpio_v2_line_info);
const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_REQUEST = sizeof(struct gpio_v2_line_request);
const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_CONFIG = sizeof(struct gpio_v2_line_config);
const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_CONFIG_ATTRIBUTE = sizeof(struct gpio_v2_line_config_attribute);
const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_EVENT = sizeof(struct gpio_v2_line_event);
const size_t CLINUXIO_SIZEOF_GPIO_V2_LINE_VALUES = sizeof(struct gpio_v2_line_values);

const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_CONSUMER = offsetof(struct gpio_v2_line_request, consumer);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_CONFIG = offsetof(struct gpio_v2_line_request, config);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_NUM_LINES = offsetof(struct gpio_v2_line_request, num_lines);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_EVENT_BUFFER_SIZE =
    offsetof(struct gpio_v2_line_request, event_buffer_size);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_FD = offsetof(struct gpio_v2_line_request, fd);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_CONFIG_NUM_ATTRS = offsetof(struct gpio_v2_line_config, num_attrs);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_CONFIG_ATTRS = offsetof(struct gpio_v2_line_config, attrs);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_INFO_OFFSET = offsetof(struct gpio_v2_line_info, offset);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_INFO_FLAGS = offsetof(struct gpio_v2_line_info, flags);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_ID = offsetof(struct gpio_v2_line_event, id);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_OFFSET = offsetof(struct gpio_v2_line_event, offset);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_SEQNO = offsetof(struct gpio_v2_line_event, seqno);
const size_t CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_LINE_SEQNO = offsetof(struct gpio_v2_line_event, line_seqno);
const size_t CLINUXIO_OFFSETOF_GPIOCHIP_INFO_LABEL = offsetof(struct gpiochip_info, label);
const size_t CLINUXIO_OFFSETOF_GPIOCHIP_INFO_LINES = offsetof(struct gpiochip_info, lines);

const unsigned long CLINUXIO_I2C_SLAVE = I2C_SLAVE;
const unsigned long CLINUXIO_I2C_FUNCS = I2C_FUNCS;
const unsigned long CLINUXIO_I2C_RDWR = I2C_RDWR;
const unsigned long CLINUXIO_I2C_SMBUS = I2C_SMBUS;
const unsigned short CLINUXIO_I2C_M_RD = I2C_M_RD;
const size_t CLINUXIO_SIZEOF_I2C_MSG = sizeof(struct i2c_msg);
const size_t CLINUXIO_SIZEOF_I2C_RDWR_IOCTL_DATA = sizeof(struct i2c_rdwr_ioctl_data);

const unsigned long CLINUXIO_SPI_IOC_MESSAGE_1 = SPI_IOC_MESSAGE(1);
const unsigned long CLINUXIO_SPI_IOC_WR_MODE = SPI_IOC_WR_MODE;
const unsigned long CLINUXIO_SPI_IOC_RD_MODE = SPI_IOC_RD_MODE;
const unsigned long CLINUXIO_SPI_IOC_WR_BITS_PER_WORD = SPI_IOC_WR_BITS_PER_WORD;
const unsigned long CLINUXIO_SPI_IOC_WR_MAX_SPEED_HZ = SPI_IOC_WR_MAX_SPEED_HZ;
const size_t CLINUXIO_SIZEOF_SPI_IOC_TRANSFER = sizeof(struct spi_ioc_transfer);

int clinuxio_ioctl(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }

int clinuxio_errno(void) { return errno; }

#endif /* __linux__ */
