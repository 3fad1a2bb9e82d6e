/// The systemd unit that runs `smollama run` unattended: one source of truth, rendered by the
/// binary (`smollama service unit`, `service install`) and by `scripts/package` through it.
///
/// Hardening: its own user, the whole file system read-only except the node's home
/// (`ProtectSystem=strict` + `ReadWritePaths=`), no privilege gain, no kernel tunables or modules.
/// `/dev` stays visible (no `PrivateDevices=`) because GPIO, I²C and SPI sensors live there; access
/// comes from the user's groups (`gpio`, `i2c`, `spi`, added by `service install` when they exist).
public struct SystemdUnit: Sendable, Hashable {
    public static let name = "smollama.service"
    public static let path = "/etc/systemd/system/smollama.service"

    /// The service's user and group.
    public var user: String
    /// The node's home (`SMOLLAMA_HOME`): the only writable path.
    public var home: String
    /// The installed binary.
    public var binary: String
    /// systemd restarts the node when no `WATCHDOG=1` comes for this long.
    public var watchdogSeconds: Int = 60

    public init(user: String, home: String, binary: String, watchdogSeconds: Int = 60) {
        self.user = user
        self.home = home
        self.binary = binary
        self.watchdogSeconds = watchdogSeconds
    }

    /// `ProtectHome=yes` hides /home, /root and /run/user; a home inside them can only be made
    /// writable over a read-only view.
    var protectHome: String {
        ["/home/", "/root/", "/run/user/"].contains { home.hasPrefix($0) || home + "/" == $0 } ? "read-only" : "yes"
    }

    public func render() -> String {
        """
        # Written by `smollama service install`; `smollama service uninstall` removes it.
        [Unit]
        Description=Smollama sensor node
        Wants=network-online.target
        After=network-online.target time-sync.target

        [Service]
        Type=notify
        NotifyAccess=main
        User=\(user)
        Group=\(user)
        Environment=SMOLLAMA_HOME=\(home)
        ExecStart=\(binary) run
        Restart=on-failure
        RestartSec=5
        # The daemon's own shutdown budget is 20 s (Daemon.run); the LLM runtime stops within it.
        TimeoutStartSec=120
        TimeoutStopSec=40
        WatchdogSec=\(watchdogSeconds)
        # Child processes (llama-server, ollama, mosquitto) are in this unit's cgroup and stop with it.
        KillMode=control-group
        ProtectSystem=strict
        ReadWritePaths=\(home)
        ProtectHome=\(protectHome)
        PrivateTmp=yes
        NoNewPrivileges=yes
        ProtectKernelTunables=yes
        ProtectKernelModules=yes
        ProtectKernelLogs=yes
        ProtectControlGroups=yes
        ProtectHostname=yes
        ProtectClock=yes
        RestrictSUIDSGID=yes
        RestrictRealtime=yes
        RestrictNamespaces=yes
        LockPersonality=yes
        RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
        SystemCallArchitectures=native
        UMask=0027

        [Install]
        WantedBy=multi-user.target

        """
    }
}
