# Shared by the scripts: finds JDK 25 and the repository root. Source it; it sets JAVA_HOME,
# JAVA and VSWITCH_ROOT, or says clearly what is missing and returns non-zero.
VSWITCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export VSWITCH_ROOT

find_jdk25() {
  local candidates=("${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/jdk-25*)
  local c
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    if "$c/bin/java" -version 2>&1 | grep -Eq 'version "25'; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if ! JAVA_HOME=$(find_jdk25); then
  echo "vswitch: JDK 25 not found (looked at \$JAVA_HOME and /usr/lib/jvm/temurin-25-jdk-amd64)." >&2
  echo "vswitch: install Temurin 25 or set JAVA_HOME to a JDK 25." >&2
  return 1 2>/dev/null || exit 1
fi
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
export JAVA
# Plain text from Maven: no ANSI colour or reset codes in logs and CI output.
export MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true"
