// AgreeClickKey against a real nats-server: every node of a cluster ends
// up with one click key, so an id minted on one verifies on the others.
#include "cluster/click_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <thread>

#include "cluster/kv_bucket.h"
#include "tests/cluster/nats_server.h"
#include "tests/util/scratch_dir.h"
#include "util/click_id.h"

namespace refgate::cluster {
namespace {

class ClickKeyTest : public testing::Test {
 protected:
  void SetUp() override {
    unsetenv("REFGATE_CLICK_KEY");
    url_ = server_.Url();
    ASSERT_FALSE(url_.empty()) << "nats-server did not start (is it installed?)";
  }
  ClickKeyOptions Options(const ScratchDir& dir, std::string url = "") const {
    ClickKeyOptions o;
    o.servers = url.empty() ? url_ : url;
    o.data_dir = dir.path();
    o.replicas = 1;
    o.timeout_ms = 2000;
    return o;
  }
  static std::string Copy(const ScratchDir& dir) {
    std::string hex;
    EXPECT_TRUE(ClickIdKey::ReadKeyFile(dir.path() + "/cluster", false, &hex).ok());
    return hex;
  }
  NatsServer server_;
  std::string url_;
};

TEST_F(ClickKeyTest, NodesStartingAtOnceTakeOneKey) {
  ScratchDir a, b, c;
  std::string own_b;
  ASSERT_TRUE(ClickIdKey::ReadKeyFile(b.path(), true, &own_b).ok());  // b had a key alone
  Status results[3];
  std::thread ta([&] { results[0] = AgreeClickKey(Options(a)); });
  std::thread tb([&] { results[1] = AgreeClickKey(Options(b)); });
  std::thread tc([&] { results[2] = AgreeClickKey(Options(c)); });
  ta.join(), tb.join(), tc.join();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(results[i].ok()) << i << " " << results[i].ToString();
  const std::string key = Copy(a);
  ASSERT_EQ(key.size(), 64u);
  EXPECT_EQ(Copy(b), key);
  EXPECT_EQ(Copy(c), key);
  std::string own;  // the winner offered its own key
  ASSERT_TRUE(ClickIdKey::ReadKeyFile(a.path(), false, &own).ok());
  std::string own_c;
  ASSERT_TRUE(ClickIdKey::ReadKeyFile(c.path(), false, &own_c).ok());
  EXPECT_TRUE(key == own || key == own_b || key == own_c);
  struct stat st;
  ASSERT_EQ(stat((b.path() + "/cluster/click.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::unique_ptr<ClickIdKey> on_a, on_c;  // minted on a, verified on c
  ASSERT_TRUE(ClickIdKey::Load(a.path() + "/cluster", false, &on_a).ok());
  ASSERT_TRUE(ClickIdKey::Load(c.path() + "/cluster", false, &on_c).ok());
  char buf[kClickIdChars];
  ClickIdKey::Claims claims;
  EXPECT_TRUE(on_c->Verify(on_a->Mint(42, "Ab3xY9k", false, buf), &claims));
  EXPECT_EQ(claims.ts_us, 42);
}

TEST_F(ClickKeyTest, OnlyAFirstStartNeedsNats) {
  ScratchDir joined, fresh;
  ASSERT_TRUE(AgreeClickKey(Options(joined)).ok());
  const std::string key = Copy(joined);
  const std::string dead = "nats://127.0.0.1:1";
  EXPECT_TRUE(AgreeClickKey(Options(joined, dead)).ok());  // goes on with its copy
  EXPECT_EQ(Copy(joined), key);
  EXPECT_TRUE(AgreeClickKey(Options(fresh, dead)).IsIOError());
  EXPECT_EQ(Copy(fresh), "");  // nothing made that could differ from the cluster's
  EXPECT_TRUE(AgreeClickKey(Options(fresh)).ok());
  EXPECT_EQ(Copy(fresh), key);
}

TEST_F(ClickKeyTest, AnotherClustersKeyIsRefused) {
  ScratchDir node;
  ASSERT_TRUE(AgreeClickKey(Options(node)).ok());
  const std::string key = Copy(node);
  std::string other(64, 'b');
  ASSERT_TRUE(ClickIdKey::WriteKeyFile(node.path() + "/cluster", other).ok());
  EXPECT_TRUE(AgreeClickKey(Options(node)).IsInvalidArgument());
  EXPECT_EQ(Copy(node), other);  // left as it was, for the operator to look at
  // A bucket made again (it lost the key) takes the node's copy.
  std::unique_ptr<KvBucket> bucket;
  ASSERT_TRUE(KvBucket::Open(url_, "refgate_cluster", 1, &bucket).ok());
  ASSERT_TRUE(bucket->Delete("click_key").ok());
  EXPECT_TRUE(AgreeClickKey(Options(node)).ok());
  KvEntry e;
  ASSERT_TRUE(bucket->Get("click_key", &e).ok());
  EXPECT_EQ(e.value, other);
}

TEST_F(ClickKeyTest, TheEnvironmentKeyNeedsNoBucket) {
  ScratchDir node;
  setenv("REFGATE_CLICK_KEY", std::string(64, 'c').c_str(), 1);
  EXPECT_TRUE(AgreeClickKey(Options(node, "nats://127.0.0.1:1")).ok());
  unsetenv("REFGATE_CLICK_KEY");
  EXPECT_EQ(Copy(node), "");
}

}  // namespace
}  // namespace refgate::cluster
