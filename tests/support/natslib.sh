# A real 3-node nats-server cluster (JetStream, free loopback ports, a store
# directory each under $tmp, full-mesh routes) for the JetStream tests.
# Source it after testlib.sh (it needs $tmp and free_port):
#   nats_cluster            starts n1..n3 and waits for their client ports
#   nats_start I            (re)starts node I on its ports and store dir
#   nats_kill I             kill -9 of node I
#   nats_wait_healthy I     waits until node I answers /healthz with 200
# and sets $nats_urls (nats://127.0.0.1:P1,...), cport[I], mport[I]
# (monitoring), npid[I]. nats_cleanup kills what is left (call it at exit).
declare -A npid
cport=() rport=() mport=()
nats_wait_port() { # nats_wait_port PORT: up to 10 s
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
nats_wait_healthy() { # nats_wait_healthy I: up to 30 s (JetStream current on node I)
    for _ in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            "http://127.0.0.1:${mport[$1]}/healthz")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}
nats_start() {
    local i=$1
    mkdir -p "$tmp/n$i"
    nats-server -a 127.0.0.1 -p "${cport[$i]}" -m "${mport[$i]}" -js -sd "$tmp/n$i" \
        --server_name "n$i" --cluster_name nmtest --cluster "nats://127.0.0.1:${rport[$i]}" \
        --routes "$nats_routes" >>"$tmp/n$i.log" 2>&1 &
    npid[$i]=$!
}
nats_kill() {
    kill -KILL "${npid[$1]}" 2>/dev/null
    wait "${npid[$1]}" 2>/dev/null || true
}
nats_cluster() {
    local i
    for i in 1 2 3; do cport[$i]=$(free_port); rport[$i]=$(free_port); mport[$i]=$(free_port); done
    nats_routes=nats://127.0.0.1:${rport[1]},nats://127.0.0.1:${rport[2]},nats://127.0.0.1:${rport[3]}
    nats_urls=nats://127.0.0.1:${cport[1]},nats://127.0.0.1:${cport[2]},nats://127.0.0.1:${cport[3]}
    for i in 1 2 3; do nats_start $i; done
    for i in 1 2 3; do
        nats_wait_port "${cport[$i]}" || { cat "$tmp/n$i.log"; echo "nats-server n$i did not start"; return 1; }
    done
}
nats_cleanup() {
    local p
    for p in "${npid[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
