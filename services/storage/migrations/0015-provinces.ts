/**
 * The two-tier local government since 1 July 2025: provinces (34, with the codes of the national
 * list of administrative units) and their communes, each with its official code; districts are
 * gone (`district` stays as a label of the former district, for history). Accounts may be limited
 * to a province (every commune in it) or to several communes.
 */
export default /* sql */ `
CREATE TABLE provinces (
  id          TEXT PRIMARY KEY,
  code        TEXT NOT NULL UNIQUE,             -- mã đơn vị hành chính cấp tỉnh, two digits
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

INSERT INTO provinces (id, code, name, created_at, updated_at) VALUES
  ('ha-noi', '01', 'Thành phố Hà Nội', 0, 0),
  ('cao-bang', '04', 'Tỉnh Cao Bằng', 0, 0),
  ('tuyen-quang', '08', 'Tỉnh Tuyên Quang', 0, 0),
  ('dien-bien', '11', 'Tỉnh Điện Biên', 0, 0),
  ('lai-chau', '12', 'Tỉnh Lai Châu', 0, 0),
  ('son-la', '14', 'Tỉnh Sơn La', 0, 0),
  ('lao-cai', '15', 'Tỉnh Lào Cai', 0, 0),
  ('thai-nguyen', '19', 'Tỉnh Thái Nguyên', 0, 0),
  ('lang-son', '20', 'Tỉnh Lạng Sơn', 0, 0),
  ('quang-ninh', '22', 'Tỉnh Quảng Ninh', 0, 0),
  ('bac-ninh', '24', 'Tỉnh Bắc Ninh', 0, 0),
  ('phu-tho', '25', 'Tỉnh Phú Thọ', 0, 0),
  ('hai-phong', '31', 'Thành phố Hải Phòng', 0, 0),
  ('hung-yen', '33', 'Tỉnh Hưng Yên', 0, 0),
  ('ninh-binh', '37', 'Tỉnh Ninh Bình', 0, 0),
  ('thanh-hoa', '38', 'Tỉnh Thanh Hóa', 0, 0),
  ('nghe-an', '40', 'Tỉnh Nghệ An', 0, 0),
  ('ha-tinh', '42', 'Tỉnh Hà Tĩnh', 0, 0),
  ('quang-tri', '44', 'Tỉnh Quảng Trị', 0, 0),
  ('hue', '46', 'Thành phố Huế', 0, 0),
  ('da-nang', '48', 'Thành phố Đà Nẵng', 0, 0),
  ('quang-ngai', '51', 'Tỉnh Quảng Ngãi', 0, 0),
  ('gia-lai', '52', 'Tỉnh Gia Lai', 0, 0),
  ('khanh-hoa', '56', 'Tỉnh Khánh Hòa', 0, 0),
  ('dak-lak', '66', 'Tỉnh Đắk Lắk', 0, 0),
  ('lam-dong', '68', 'Tỉnh Lâm Đồng', 0, 0),
  ('dong-nai', '75', 'Tỉnh Đồng Nai', 0, 0),
  ('ho-chi-minh', '79', 'Thành phố Hồ Chí Minh', 0, 0),
  ('tay-ninh', '80', 'Tỉnh Tây Ninh', 0, 0),
  ('dong-thap', '82', 'Tỉnh Đồng Tháp', 0, 0),
  ('vinh-long', '86', 'Tỉnh Vĩnh Long', 0, 0),
  ('an-giang', '91', 'Tỉnh An Giang', 0, 0),
  ('can-tho', '92', 'Thành phố Cần Thơ', 0, 0),
  ('ca-mau', '96', 'Tỉnh Cà Mau', 0, 0);

ALTER TABLE communes ADD COLUMN code TEXT;          -- mã đơn vị hành chính cấp xã, five digits
ALTER TABLE communes ADD COLUMN province_id TEXT REFERENCES provinces(id) ON DELETE RESTRICT;
CREATE UNIQUE INDEX communes_code ON communes (code) WHERE code IS NOT NULL;
CREATE INDEX communes_province ON communes (province_id);
-- Vĩnh Phúc, Phú Thọ and Hòa Bình became the province of Phú Thọ.
UPDATE communes SET province_id = 'phu-tho' WHERE province IN ('Vĩnh Phúc', 'Phú Thọ', 'Hòa Bình', 'Hoà Bình');

ALTER TABLE users ADD COLUMN province_id TEXT REFERENCES provinces(id) ON DELETE RESTRICT;
CREATE TABLE user_communes (
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  commune_id  TEXT NOT NULL REFERENCES communes(id) ON DELETE RESTRICT,
  PRIMARY KEY (user_id, commune_id)
);
INSERT INTO user_communes (user_id, commune_id) SELECT id, commune_id FROM users WHERE commune_id IS NOT NULL;
`;
