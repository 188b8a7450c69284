// fd_rotor: accepted sockets get numbers not handed out recently (the CAF handle-reuse race).
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>

#include "core/fd_rotor.hpp"

using namespace ledgersync;

namespace {
int fresh_fd() {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[1]);
  return p[0];
}
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }
}  // namespace

TEST_CASE("a closed descriptor's number is not handed out again until the range wraps") {
  fd_rotor rotor(700, 705);
  std::set<int> seen;
  for (int i = 0; i < 5; ++i) {
    int fd = fresh_fd();
    int moved = rotor.adopt(fd);
    CHECK(moved == 700 + i);  // the kernel alone would give the number just closed again
    CHECK_FALSE(is_open(fd));
    seen.insert(moved);
    ::close(moved);
  }
  CHECK(seen.size() == 5);
  int moved = rotor.adopt(fresh_fd());  // the range is used up: start again at its beginning
  CHECK(moved == 700);
  ::close(moved);
}

TEST_CASE("numbers still in use are skipped, and a full range leaves the descriptor as it is") {
  fd_rotor rotor(710, 713);
  int a = rotor.adopt(fresh_fd());
  int b = rotor.adopt(fresh_fd());
  CHECK(a == 710);
  CHECK(b == 711);
  ::close(a);
  int c = rotor.adopt(fresh_fd());
  CHECK(c == 712);
  int d = rotor.adopt(fresh_fd());  // wraps; 710 is free again, 711 and 712 are not
  CHECK(d == 710);
  int fd = fresh_fd();
  CHECK(rotor.adopt(fd) == fd);  // 710-712 all open
  CHECK(is_open(fd));
  for (int x : {b, c, d, fd}) ::close(x);
  CHECK(rotor.adopt(-1) == -1);
}
