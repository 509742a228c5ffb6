#!/usr/bin/env bash
# MTCP benchmark suite (JMH): migration time vs state size (thesis figures 5.2, 5.3), the plain-socket
# floor, data path and snapshot cost. See docs/benchmarks.md.
#
#   benchmarks/run.sh                  full suite with the pinned runs (~25 min on 2 cores) -> benchmarks/results/, then --render
#   benchmarks/run.sh --smoke          compile + one very short iteration of every benchmark (CI); nothing in docs/
#   benchmarks/run.sh --render         docs/benchmarks.md + docs/benchmarks/*.png from benchmarks/results/
#   benchmarks/run.sh --only REGEX [JMH args]     suite settings, matching benchmarks only, merged into results
#   benchmarks/run.sh --pinned [REGEX [JMH args]] the one-CPU figures: JVMs under `taskset -c $PIN_CPU` (default 0),
#                                      30 s warm-up (C2 on one CPU takes that long) -> benchmarks/results/pinned/
#   benchmarks/run.sh --profile REGEX [JMH args]  JFR profile (-prof jfr) -> benchmarks/results/profiles/, hot-frame summaries
#   benchmarks/run.sh --ab REGEX_A REGEX_B N [JMH args]  interleaved A/B forks, median ratio B/A (noisy machine)
#
# Environment: MVN_FLAGS (extra Maven flags, e.g. -o), SKIP_BUILD=1 (use the jar as built), JAVA (java binary);
# for --profile: ASYNC_PROFILER_LIB=/path/libasyncProfiler.so uses async-profiler instead of JFR
# (ASYNC_EVENT=cpu|wall|itimer, ASYNC_INTERVAL in ns).
# The build is `./mvnw -pl benchmarks package`: it needs the library modules installed in the local
# Maven repository (./mvnw install at the top does that).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
java=${JAVA:-java}
jar=benchmarks/target/benchmarks.jar
results=benchmarks/results
all='org\.mtcp\.benchmarks\..*'

build() {
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    # shellcheck disable=SC2086
    ./mvnw -q -B ${MVN_FLAGS:-} -pl benchmarks package
  fi
  [ -f "$jar" ] || { echo "run.sh: $jar missing after the build" >&2; exit 1; }
}

render() { # results-dir doc images
  "$java" -Djava.awt.headless=true -cp "$jar" org.mtcp.benchmarks.report.Report --results "$1" --doc "$2" --images "$3"
}

machine() { # file
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')   commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "nproc: $(nproc)"
    echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    lscpu | head -n 20
    "$java" -version 2>&1
  } >"$1"
}

# The one-CPU runs: everything (benchmark JVM, its forks, their JIT and GC threads) on one CPU, as in a
# container given one CPU; the floor is pinned the same way. Without arguments: the migration goals (0 and
# 16 KiB) and the 1 KiB download with an export after every write. With REGEX [JMH args]: those.
pinned() {
  local dir="$results/pinned" cpu=${PIN_CPU:-0}
  mkdir -p "$dir/phases"
  local -a runs
  if [ $# -gt 0 ]; then
    runs=("$*")
  else
    rm -f "$dir"/*.json "$dir"/phases/*.csv "$dir/command.txt"
    runs=("org\\.mtcp\\.benchmarks\\.(MigrationTimeBenchmark|FloorBenchmark)\\.migrate -p stateBytes=0,16384"
          "org\\.mtcp\\.benchmarks\\.DataPathBenchmark\\.download(Mtcp|Plain) -p chunk=1024 -p snapshot=true -p noDelay=false")
  fi
  local i=0 r
  for r in "${runs[@]}"; do
    i=$((i + 1))
    local out="$dir/jmh-$(date +%s)-$i.json" opts="" kv
    for kv in "-f 1" "-wi 30" "-w 1s" "-i 5" "-r 1s" "-to 120s"; do # defaults the arguments do not set
      case " $r " in *" ${kv%% *} "*) ;; *) opts="$opts $kv" ;; esac
    done
    echo "taskset -c $cpu java -jar $jar$opts $r -rf json -rff $out" >>"$dir/command.txt"
    # shellcheck disable=SC2086
    MTCP_BENCH_OUT="$dir" taskset -c "$cpu" "$java" -jar "$jar" $opts $r -rf json -rff "$out"
  done
}

mode=${1:-full}
[ $# -gt 0 ] && shift

case "$mode" in
  --smoke)
    build
    out=benchmarks/target/smoke
    rm -rf "$out"; mkdir -p "$out"
    # One fork, no warm-up, one 200 ms iteration (one shot for the single-shot benchmark), one value per
    # parameter; -foe: any exception (an MTCP failure included) fails the run. No assertions on speed.
    MTCP_BENCH_OUT="$out" timeout 900 "$java" -jar "$jar" "$all" \
      -f 1 -wi 0 -i 1 -r 200ms -to 60s -foe true \
      -p stateBytes=1024 -p chunk=65536 -p snapshot=true -p noDelay=false -p sessions=200 \
      -rf json -rff "$out/jmh.json"
    render "$out" "$out/benchmarks.md" "$out/img" >/dev/null
    n=$(grep -c '"benchmark"' "$out/jmh.json" || true)
    echo "benchmarks smoke: $n benchmarks ran once; rendered $out/benchmarks.md"
    ;;
  --render)
    build
    render "$results" docs/benchmarks.md docs/benchmarks
    ;;
  --only)
    regex=${1:?usage: run.sh --only REGEX [JMH args]}; shift
    build
    mkdir -p "$results/phases"
    case "$regex" in *MigrationTime*) rm -f "$results"/phases/warm-*.csv ;; esac
    case "$regex" in *Cold*) rm -f "$results"/phases/cold-*.csv ;; esac
    case "$regex" in *FreshJvm*) rm -f "$results"/phases/fresh-*.csv ;; esac
    tag=$(echo "$regex" | tr -c 'A-Za-z0-9' '_' | cut -c1-60)
    echo "java -jar $jar '$regex' $* -rf json -rff $results/jmh-only-$tag.json" >>"$results/command.txt"
    MTCP_BENCH_OUT="$results" "$java" -jar "$jar" "$regex" -to 120s "$@" -rf json -rff "$results/jmh-only-$tag.json"
    render "$results" docs/benchmarks.md docs/benchmarks
    ;;
  --pinned)
    build
    pinned "$@"
    render "$results" docs/benchmarks.md docs/benchmarks
    ;;
  --profile)
    regex=${1:?usage: run.sh --profile REGEX [JMH args]}; shift
    build
    tag=$(echo "$regex" | tr -c 'A-Za-z0-9' '_' | cut -c1-60)
    dir="$results/profiles/$tag"
    rm -rf "$dir"; mkdir -p "$dir"
    if [ -n "${ASYNC_PROFILER_LIB:-}" ]; then
      # async-profiler (e.g. the libasyncProfiler.so inside Maven Central's
      # tools.profiler:async-profiler:3.0:jar:linux-x64): CPU samples every 1 ms, kernel frames included
      prof="async:libPath=$ASYNC_PROFILER_LIB;event=${ASYNC_EVENT:-cpu};interval=${ASYNC_INTERVAL:-1000000};threads=true;output=collapsed;dir=$dir"
    else
      prof="jfr:dir=$dir"
    fi
    MTCP_BENCH_OUT="$dir" "$java" -jar "$jar" "$regex" -f 1 -to 120s -prof "$prof" "$@" \
      -rf json -rff "$dir/jmh-profile.json"
    find "$dir" -name '*.jfr' -o -name 'collapsed-*.csv' | sort | while read -r f; do
      name=$(basename "$(dirname "$f")")
      "$java" -cp "$jar" org.mtcp.benchmarks.report.HotFrames --top 30 "$f" >"$dir/$name.txt"
      echo "hot frames: $dir/$name.txt"
    done
    ;;
  --ab)
    # Interleaved A/B: alternates one fork of A and one fork of B, N times, so that drift in the
    # machine's load hits both alike; prints each pair and the median ratio B/A of the scores.
    a=${1:?usage: run.sh --ab REGEX_A REGEX_B N [JMH args]}; b=${2:?}; n=${3:?}; shift 3
    build
    tmp=$(mktemp -d)
    ratios=()
    for i in $(seq 1 "$n"); do
      "$java" -jar "$jar" "$a" -f 1 "$@" -rf csv -rff "$tmp/a.csv" >/dev/null 2>&1
      "$java" -jar "$jar" "$b" -f 1 "$@" -rf csv -rff "$tmp/b.csv" >/dev/null 2>&1
      sa=$(awk -F, 'NR==2{print $5}' "$tmp/a.csv"); sb=$(awk -F, 'NR==2{print $5}' "$tmp/b.csv")
      r=$(awk -v x="$sa" -v y="$sb" 'BEGIN{printf "%.3f", y/x}')
      ratios+=("$r")
      echo "pair $i: A=$sa B=$sb B/A=$r ($(awk -F, 'NR==2{print $7}' "$tmp/a.csv"))"
    done
    printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "median B/A over %d pairs: %.3f (min %.3f, max %.3f)\n", NR, m, v[1], v[NR]}'
    rm -rf "$tmp"
    ;;
  full|--full)
    build
    mkdir -p "$results"
    rm -rf "$results/phases" "$results"/*.json "$results/command.txt"
    machine "$results/machine.txt"
    echo "benchmarks/run.sh  =  java -jar $jar '$all' -to 120s -rf json -rff $results/jmh.json  (settings: the @Fork/@Warmup/@Measurement annotations)" >"$results/command.txt"
    MTCP_BENCH_OUT="$results" "$java" -jar "$jar" "$all" -to 120s -rf json -rff "$results/jmh.json" "$@" \
      2>&1 | tee "$results/jmh.log"
    pinned
    echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/machine.txt"
    render "$results" docs/benchmarks.md docs/benchmarks
    ;;
  *)
    sed -n '2,18p' "$0"; exit 2 ;;
esac
