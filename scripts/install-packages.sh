# Sourced by scripts/setup and scripts/test: installs the Debian packages the demo, the
# system tests, and bench/run use, when a command (or file) is missing. Needs root (apt-get).
vswitch_install_packages() {
  local -A wanted=([ip]=iproute2 [iperf3]=iperf3 [ping]=iputils-ping [tcpdump]=tcpdump [python3]=python3
    [mvn]=maven [ethtool]=ethtool [curl]=curl [nft]=nftables [iptables]=iptables [podman]=podman [runc]=runc
    [conmon]=conmon [busybox]=busybox-static [/usr/lib/cni/host-local]=containernetworking-plugins
    [/usr/sbin/dockerd]=docker.io [/usr/bin/docker]=docker.io [/usr/bin/etcd]=etcd-server [/usr/sbin/ovs-vswitchd]=openvswitch-switch
    [/usr/sbin/trafgen]=netsniff-ng [wireguard-go]=wireguard-go [wg]=wireguard-tools)
  local missing=() cmd
  for cmd in "${!wanted[@]}"; do
    if [ "${cmd:0:1}" = / ]; then
      [ -e "$cmd" ] || missing+=("${wanted[$cmd]}")
    else
      command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "vswitch: missing ${missing[*]}; run as root so they can be installed (apt-get)" >&2
    return 1
  fi
  echo "vswitch: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
