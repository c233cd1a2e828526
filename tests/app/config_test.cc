#include "refgate/config.h"

#include <gtest/gtest.h>

#include <fstream>

namespace refgate {

TEST(Config, DefaultsAreValid) {
  Config c;
  EXPECT_TRUE(ValidateConfig(c).ok());
  EXPECT_EQ(c.server.listen.ToString(), "127.0.0.1:8080");
  EXPECT_EQ(c.server.admin_listen.ToString(), "127.0.0.1:8081");
  EXPECT_EQ(c.redirect.status, 302);
}

TEST(Config, ShippedConfigFileLoadsAndEqualsTheDefaults) {
  Config c;
  Status s = LoadConfigFile(REFGATE_SOURCE_DIR "/configs/refgate.toml", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(ValidateConfig(c).ok());
  Config d;
  EXPECT_EQ(c.redirect.allowed_hosts, d.redirect.allowed_hosts);
  EXPECT_EQ(c.clicklog.segment_bytes, d.clicklog.segment_bytes);
  EXPECT_EQ(c.cookie.name, d.cookie.name);
  EXPECT_EQ(c.server.max_connections, d.server.max_connections);
  EXPECT_EQ(c.server.io_timeout_ms, d.server.io_timeout_ms);
}

TEST(Config, ReadsEveryKindOfValue) {
  Config c;
  Status s = LoadConfigText(R"(
[server]
listen = "[::1]:9000"
threads = 4
trusted_proxies = ["10.0.0.0/8"]
[redirect]
status = 301
forward_query = false
[cookie]
secure = false
)",
                            &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.server.listen.host, "::1");
  EXPECT_EQ(c.server.listen.port, 9000);
  EXPECT_EQ(c.server.threads, 4);
  EXPECT_EQ(c.server.trusted_proxies.size(), 1u);
  EXPECT_EQ(c.redirect.status, 301);
  EXPECT_FALSE(c.redirect.forward_query);
  EXPECT_FALSE(c.cookie.secure);
  EXPECT_TRUE(ValidateConfig(c).ok());
}

struct BadConfig {
  const char* toml;
  const char* key;  // the message must name it
};

class ConfigErrors : public testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, NameTheKey) {
  Config c;
  Status s = LoadConfigText(GetParam().toml, &c);
  if (s.ok()) s = ValidateConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(GetParam().key), std::string::npos) << s.message();
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigErrors,
    testing::Values(
        BadConfig{"[server]\nlisten_port = 1\n", "server.listen_port"},
        BadConfig{"[nope]\nx = 1\n", "nope.x"},
        BadConfig{"[server]\nthreads = \"four\"\n", "server.threads"},
        BadConfig{"[server]\nmax_connections = 0\n", "server.max_connections"},
        BadConfig{"[server]\nio_timeout_ms = -5\n", "server.io_timeout_ms"},
        BadConfig{"[server]\nlisten = \"localhost\"\n", "server.listen"},
        BadConfig{"[server]\nlisten = \"example.com:80\"\n", "server.listen"},
        BadConfig{"[server]\nlisten = \"127.0.0.1:70000\"\n", "server.listen"},
        BadConfig{"[server]\ntrusted_proxies = [\"10.0.0.0/33\"]\n", "server.trusted_proxies"},
        BadConfig{"[redirect]\nstatus = 303\n", "redirect.status"},
        BadConfig{"[redirect]\ndefault_target = \"ftp://x/\"\n", "redirect.default_target"},
        BadConfig{"[redirect]\ndefault_target = \"https://evil.test/\"\n",
                  "redirect.default_target"},
        BadConfig{"[redirect]\nallowed_hosts = \"example.com\"\n", "redirect.allowed_hosts"},
        BadConfig{"[clicklog]\ndurability = \"always\"\n", "clicklog.durability"},
        BadConfig{"[cookie]\nname = \"a b\"\n", "cookie.name"},
        BadConfig{"[cookie]\nsecure = 1\n", "cookie.secure"},
        BadConfig{"[privacy]\nanonymize_ip = \"yes\"\n", "privacy.anonymize_ip"},
        BadConfig{"[admin]\nmax_auth_failures = -1\n", "admin.max_auth_failures"},
        BadConfig{"[cluster]\nnats_urls = [\"10.0.0.1:4222\"]\nnode_id = \"a\"\n",
                  "cluster.nats_urls"},
        BadConfig{"[cluster]\nnats_urls = [\"nats://a:1,nats://b:2\"]\nnode_id = \"a\"\n",
                  "cluster.nats_urls"},
        BadConfig{"[cluster]\nnats_urls = [\"nats://10.0.0.1:4222\"]\n", "cluster.node_id"},
        BadConfig{"[cluster]\nnode_id = \"eu.1\"\n", "cluster.node_id"},
        BadConfig{"[cluster]\nrollup = true\n", "cluster.rollup"},
        BadConfig{"[cluster]\nreplicas = 0\n", "cluster.replicas"},
        BadConfig{"server = 1\n", "server"}, BadConfig{"[server\n", "line 1"}));

TEST(Config, Ipv6LiteralsAreAllowedHosts) {
  for (const char* host : {"[::1]", "::1"}) {
    Config c;
    std::string text = "[redirect]\ndefault_target = \"http://[::1]:9/x\"\nallowed_hosts = [\"" +
                       std::string(host) + "\"]\n";
    Status s = LoadConfigText(text, &c);
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = ValidateConfig(c);
    EXPECT_TRUE(s.ok()) << host << ": " << s.ToString();
  }
}

TEST(Config, HostPortParsing) {
  HostPort hp;
  EXPECT_TRUE(ParseHostPort("0.0.0.0:0", &hp).ok());
  EXPECT_EQ(hp.port, 0);
  EXPECT_TRUE(ParseHostPort("[::]:443", &hp).ok());
  EXPECT_EQ(hp.ToString(), "[::]:443");
  EXPECT_TRUE(ParseHostPort("localhost:8080", &hp).ok());
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_FALSE(ParseHostPort("::1:80", &hp).ok());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:", &hp).ok());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:8o", &hp).ok());
}

}  // namespace refgate
