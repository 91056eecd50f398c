#include "base/private_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "tests/testing/temp_dir.h"

namespace relaytap {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class PrivateFileTest : public ::testing::Test {
 protected:
  void SetUp() override { old_umask_ = ::umask(0); }  // the loosest umask
  void TearDown() override { ::umask(old_umask_); }
  std::string Path(const std::string& name) {
    return (testing::FreshTempDir("private_file") / name).string();
  }
  mode_t old_umask_ = 0;
};

TEST_F(PrivateFileTest, CreatesOwnerOnlyWhateverTheUmask) {
  const std::string p = Path("new");
  ASSERT_TRUE(MakePrivateFile(p, /*truncate=*/false).ok());
  EXPECT_EQ(ModeOf(p), 0600u);
}

TEST_F(PrivateFileTest, TightensAnExistingFileAndKeepsOrEmptiesItsContent) {
  const std::string p = Path("old");
  std::ofstream(p) << "kept";
  ASSERT_EQ(::chmod(p.c_str(), 0664), 0);
  ASSERT_TRUE(MakePrivateFile(p, /*truncate=*/false).ok());
  EXPECT_EQ(ModeOf(p), 0600u);
  std::string text;
  std::ifstream(p) >> text;
  EXPECT_EQ(text, "kept");
  ASSERT_TRUE(MakePrivateFile(p, /*truncate=*/true).ok());
  std::ifstream in(p);
  EXPECT_EQ(in.peek(), std::ifstream::traits_type::eof());
}

TEST_F(PrivateFileTest, TightenIfExistsIgnoresMissingFiles) {
  const std::string p = Path("wal");
  EXPECT_TRUE(TightenIfExists(p).ok());
  std::ofstream(p) << "x";
  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  EXPECT_TRUE(TightenIfExists(p).ok());
  EXPECT_EQ(ModeOf(p), 0600u);
}

TEST_F(PrivateFileTest, ErrorsNameThePath) {
  absl::Status st = MakePrivateFile("/nonexistent-dir/x", false);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent-dir/x"), std::string::npos);
}

}  // namespace
}  // namespace relaytap
