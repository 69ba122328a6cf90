# shellcheck shell=bash
# make_pki DIR: a throw-away CA and the certificates of a one-node cluster whose node is
# called "localhost". Kept across up/down so a saved kubeconfig stays valid. Sourced by up.

_pki_sign() { # NAME SUBJECT EXTENSIONS
  local name=$1 subj=$2 ext=$3
  openssl genrsa -out "$name.key" 2048 2>/dev/null
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

make_pki() {
  local dir=$1
  [ -f "$dir/.complete" ] && return
  rm -rf "$dir"; mkdir -p "$dir"
  (
    cd "$dir"
    openssl genrsa -out ca.key 2048 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=stilt-cluster-ca" -out ca.crt
    local server='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth'
    local client='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
    _pki_sign apiserver /CN=kube-apiserver "$server
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1"
    _pki_sign kubelet-serving /CN=localhost "$server
subjectAltName=DNS:localhost,IP:127.0.0.1"
    # system:masters: cluster-admin for the test user, and for the apiserver calling the
    # kubelet (logs, exec, port-forward).
    _pki_sign admin /O=system:masters/CN=stilt-test-admin "$client"
    _pki_sign apiserver-kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client "$client"
    _pki_sign kubelet /O=system:nodes/CN=system:node:localhost "$client"
    _pki_sign controller-manager /CN=system:kube-controller-manager "$client"
    _pki_sign scheduler /CN=system:kube-scheduler "$client"
    # Service-account tokens: signed with sa.key, verified with sa.pub.
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
    touch .complete
  ) || die "generating certificates in $dir failed"
}

# make_kubeconfig FILE USER CERTNAME: a kubeconfig with one cluster/context named $CONTEXT.
make_kubeconfig() {
  local file=$1 user=$2 cert=$3 pki=$STATE/pki
  rm -f "$file"
  {
    kubectl config --kubeconfig="$file" set-cluster "$CONTEXT" --server="https://127.0.0.1:$API_PORT" \
      --certificate-authority="$pki/ca.crt" --embed-certs=true
    kubectl config --kubeconfig="$file" set-credentials "$user" \
      --client-certificate="$pki/$cert.crt" --client-key="$pki/$cert.key" --embed-certs=true
    kubectl config --kubeconfig="$file" set-context "$CONTEXT" --cluster="$CONTEXT" --user="$user"
    kubectl config --kubeconfig="$file" use-context "$CONTEXT"
  } >/dev/null || die "writing kubeconfig $file failed"
  chmod 600 "$file"
}
