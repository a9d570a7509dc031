#!/usr/bin/env bash
# Makes certificates and the gossip key for rpcnetd.
#
#   scripts/gen-certs.sh --dev [DIR]          self-signed dev pair DIR/test_cert.pem + DIR/test_key.pem
#                                             (127.0.0.1, ::1, localhost; valid 20 years)
#   scripts/gen-certs.sh --ca DIR             a cluster CA: DIR/ca.pem + DIR/ca.key, and the cluster's
#                                             gossip key DIR/gossip.key (if absent)
#   scripts/gen-certs.sh --node DIR NAME HOST[,HOST...] [ROLE]
#                                             DIR/NAME.pem + DIR/NAME.key signed by DIR/ca.pem,
#                                             SANs = the hosts (IPs or DNS names), OU = ROLE
#                                             (director|worker|client; default worker)
#   scripts/gen-certs.sh --gossip-key FILE    32 random bytes, base64 (for --gossip-key)
#
# Keys are ECDSA P-256 (what the benchmark harness and gRPC negotiate).
set -euo pipefail

days=7300
die() { echo "gen-certs: $*" >&2; exit 2; }
command -v openssl >/dev/null || die "openssl not found (apt-get install -y openssl)"

san_list() { # "a,b" -> "IP:a,DNS:b"
    local out="" h
    IFS=',' read -ra hosts <<<"$1"
    for h in "${hosts[@]}"; do
        if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then out+="${out:+,}IP:$h"; else out+="${out:+,}DNS:$h"; fi
    done
    echo "$out"
}

case "${1:-}" in
--dev)
    dir=${2:-certs}
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/test_key.pem" -out "$dir/test_cert.pem" -days "$days" \
        -subj "/CN=localhost/O=rpcnetd dev" \
        -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,digitalSignature,keyCertSign" 2>/dev/null
    echo "wrote $dir/test_cert.pem $dir/test_key.pem"
    ;;
--ca)
    dir=${2:?--ca DIR}
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$days" -subj "/CN=rpcnetd cluster CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 600 "$dir/ca.key"
    echo "wrote $dir/ca.pem $dir/ca.key"
    if [ ! -f "$dir/gossip.key" ]; then
        (umask 077; openssl rand -base64 32 >"$dir/gossip.key")
        echo "wrote $dir/gossip.key"
    fi
    ;;
--node)
    dir=${2:?--node DIR NAME HOSTS [ROLE]}; name=${3:?NAME}; hosts=${4:?HOSTS}; role=${5:-worker}
    [[ -f $dir/ca.pem && -f $dir/ca.key ]] || die "$dir/ca.pem missing: run --ca $dir first"
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/$name.key" -out "$tmp/req.csr" -subj "/CN=$name/OU=$role" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$(san_list "$hosts")" >"$tmp/ext"
    openssl x509 -req -in "$tmp/req.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -out "$dir/$name.pem" -days "$days" -extfile "$tmp/ext" 2>/dev/null
    chmod 600 "$dir/$name.key"
    echo "wrote $dir/$name.pem $dir/$name.key"
    ;;
--gossip-key)
    file=${2:?--gossip-key FILE}
    umask 077
    (umask 077; openssl rand -base64 32 >"$file")
    echo "wrote $file"
    ;;
*)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
