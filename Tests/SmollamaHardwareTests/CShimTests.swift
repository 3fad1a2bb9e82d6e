import CLinuxIO
import Testing
@testable import SmollamaHardware

/// The Swift mirror of the uAPI must match the installed kernel headers, which the shim reads.
@Suite struct CShimTests {
    @Test func gpioStructSizesMatchTheHeader() {
        #expect(GPIOUAPI.chipInfoSize == CLINUXIO_SIZEOF_GPIOCHIP_INFO)
        #expect(GPIOUAPI.lineInfoSize == CLINUXIO_SIZEOF_GPIO_V2_LINE_INFO)
        #expect(GPIOUAPI.lineRequestSize == CLINUXIO_SIZEOF_GPIO_V2_LINE_REQUEST)
        #expect(GPIOUAPI.lineConfigSize == CLINUXIO_SIZEOF_GPIO_V2_LINE_CONFIG)
        #expect(GPIOUAPI.lineConfigAttributeSize == CLINUXIO_SIZEOF_GPIO_V2_LINE_CONFIG_ATTRIBUTE)
        #expect(GPIOUAPI.lineEventSize == CLINUXIO_SIZEOF_GPIO_V2_LINE_EVENT)
        #expect(GPIOUAPI.lineEventSize == 48)
        #expect(GPIOUAPI.lineValuesSize == CLINUXIO_SIZEOF_GPIO_V2_LINE_VALUES)
        // The imported C structs agree with the shim's sizeof.
        #expect(MemoryLayout<gpio_v2_line_request>.size == CLINUXIO_SIZEOF_GPIO_V2_LINE_REQUEST)
        #expect(MemoryLayout<gpio_v2_line_event>.size == CLINUXIO_SIZEOF_GPIO_V2_LINE_EVENT)
    }

    @Test func gpioOffsetsMatchTheHeader() {
        #expect(GPIOUAPI.requestConsumerOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_CONSUMER)
        #expect(GPIOUAPI.requestConfigOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_CONFIG)
        #expect(GPIOUAPI.requestNumLinesOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_NUM_LINES)
        #expect(GPIOUAPI.requestEventBufferSizeOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_EVENT_BUFFER_SIZE)
        #expect(GPIOUAPI.requestFDOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_REQUEST_FD)
        #expect(GPIOUAPI.configNumAttrsOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_CONFIG_NUM_ATTRS)
        #expect(GPIOUAPI.configAttrsOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_CONFIG_ATTRS)
        #expect(GPIOUAPI.lineInfoOffsetOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_INFO_OFFSET)
        #expect(GPIOUAPI.lineInfoFlagsOffset == CLINUXIO_OFFSETOF_GPIO_V2_LINE_INFO_FLAGS)
        #expect(GPIOUAPI.chipInfoLabelOffset == CLINUXIO_OFFSETOF_GPIOCHIP_INFO_LABEL)
        #expect(GPIOUAPI.chipInfoLinesOffset == CLINUXIO_OFFSETOF_GPIOCHIP_INFO_LINES)
        #expect(CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_ID == 8)
        #expect(CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_OFFSET == 12)
        #expect(CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_SEQNO == 16)
        #expect(CLINUXIO_OFFSETOF_GPIO_V2_LINE_EVENT_LINE_SEQNO == 20)
    }

    @Test func gpioConstantsMatchTheHeader() {
        #expect(GPIOUAPI.flagUsed == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_USED))
        #expect(GPIOUAPI.flagActiveLow == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_ACTIVE_LOW))
        #expect(GPIOUAPI.flagInput == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_INPUT))
        #expect(GPIOUAPI.flagOutput == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_OUTPUT))
        #expect(GPIOUAPI.flagEdgeRising == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_RISING))
        #expect(GPIOUAPI.flagEdgeFalling == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_FALLING))
        #expect(GPIOUAPI.flagBiasPullUp == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_PULL_UP))
        #expect(GPIOUAPI.flagBiasPullDown == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN))
        #expect(GPIOUAPI.flagBiasDisabled == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_DISABLED))
        #expect(GPIOUAPI.attrIDFlags == CLINUXIO_GPIO_V2_LINE_ATTR_ID_FLAGS)
        #expect(GPIOUAPI.attrIDOutputValues == CLINUXIO_GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES)
        #expect(GPIOUAPI.attrIDDebounce == CLINUXIO_GPIO_V2_LINE_ATTR_ID_DEBOUNCE)
        #expect(GPIOUAPI.eventRisingEdge == CLINUXIO_GPIO_V2_LINE_EVENT_RISING_EDGE)
        #expect(GPIOUAPI.eventFallingEdge == CLINUXIO_GPIO_V2_LINE_EVENT_FALLING_EDGE)
        #expect(GPIOUAPI.linesMax == Int(CLINUXIO_GPIO_V2_LINES_MAX))
        #expect(GPIOUAPI.numAttrsMax == Int(CLINUXIO_GPIO_V2_LINE_NUM_ATTRS_MAX))
        #expect(GPIOUAPI.maxNameSize == Int(CLINUXIO_GPIO_MAX_NAME_SIZE))
    }

    /// The ioctl numbers as the kernel encodes them: dir << 30 | size << 16 | type << 8 | nr.
    @Test func ioctlRequestNumbersEncodeTheStructSizes() {
        func ioc(_ dir: UInt, _ type: UInt, _ nr: UInt, _ size: Int) -> UInt { dir << 30 | UInt(size) << 16 | type << 8 | nr }
        let read: UInt = 2, write: UInt = 1
        #expect(CLINUXIO_GPIO_GET_CHIPINFO_IOCTL == ioc(read, 0xB4, 0x01, 68))
        #expect(CLINUXIO_GPIO_V2_GET_LINEINFO_IOCTL == ioc(read | write, 0xB4, 0x05, 256))
        #expect(CLINUXIO_GPIO_V2_GET_LINE_IOCTL == ioc(read | write, 0xB4, 0x07, 592))
        #expect(CLINUXIO_GPIO_V2_LINE_GET_VALUES_IOCTL == ioc(read | write, 0xB4, 0x0E, 16))
        #expect(CLINUXIO_GPIO_V2_LINE_SET_VALUES_IOCTL == ioc(read | write, 0xB4, 0x0F, 16))
        #expect(CLINUXIO_SPI_IOC_MESSAGE_1 == ioc(write, UInt(UInt8(ascii: "k")), 0, 32))
        #expect(CLINUXIO_SPI_IOC_WR_MODE == ioc(write, UInt(UInt8(ascii: "k")), 1, 1))
        #expect(CLINUXIO_SPI_IOC_WR_MAX_SPEED_HZ == ioc(write, UInt(UInt8(ascii: "k")), 4, 4))
        #expect(CLINUXIO_I2C_RDWR == 0x0707)
        #expect(CLINUXIO_I2C_SLAVE == 0x0703)
        #expect(CLINUXIO_I2C_SMBUS == 0x0720)
        #expect(CLINUXIO_I2C_M_RD == 0x0001)
    }

    @Test func busStructSizes() {
        #expect(CLINUXIO_SIZEOF_SPI_IOC_TRANSFER == 32)
        #expect(MemoryLayout<spi_ioc_transfer>.size == CLINUXIO_SIZEOF_SPI_IOC_TRANSFER)
        #expect(MemoryLayout<i2c_msg>.size == CLINUXIO_SIZEOF_I2C_MSG)
        #expect(MemoryLayout<i2c_rdwr_ioctl_data>.size == CLINUXIO_SIZEOF_I2C_RDWR_IOCTL_DATA)
    }
}
