import { describe, expect, it } from 'vitest';
import { normalizeVietnamese, numberToWords } from '../../services/tts/normalize-vi.js';

/*
 * What a synthesizer is given must read as a Vietnamese speaker would say the bulletin: a date is
 * "ngày hai tháng mười hai", a phone number is read digit by digit in its groups, UBND is
 * "Ủy ban nhân dân".
 */
describe('Vietnamese text read aloud', () => {
  it('reads the bulletin of the example as a speaker would', () => {
    expect(normalizeVietnamese('Ngày 2/12/2026 lúc 14h30, lượng mưa 150mm, gọi 0912 345 678')).toBe(
      'Ngày hai tháng mười hai năm hai nghìn không trăm hai mươi sáu lúc mười bốn giờ ba mươi phút, ' +
        'lượng mưa một trăm năm mươi mi-li-mét, gọi không chín một hai, ba bốn năm, sáu bảy tám',
    );
  });

  it('reads numbers with their irregular forms: mốt, tư, lăm, linh, không trăm', () => {
    const cases: [number, string][] = [
      [0, 'không'],
      [10, 'mười'],
      [11, 'mười một'],
      [15, 'mười lăm'],
      [21, 'hai mươi mốt'],
      [24, 'hai mươi tư'],
      [25, 'hai mươi lăm'],
      [105, 'một trăm linh năm'],
      [110, 'một trăm mười'],
      [1005, 'một nghìn không trăm linh năm'],
      [2026, 'hai nghìn không trăm hai mươi sáu'],
      [100_000, 'một trăm nghìn'],
      [1_500_000, 'một triệu năm trăm nghìn'],
      [2_000_000_000, 'hai tỷ'],
    ];
    for (const [n, words] of cases) expect(numberToWords(n), String(n)).toBe(words);
    // The south says ngàn and lẻ.
    expect(numberToWords(1005, 'southern')).toBe('một ngàn không trăm lẻ năm');
  });

  it('reads dates, times and months', () => {
    expect(normalizeVietnamese('họp lúc 7h sáng ngày 15/4')).toBe(
      'họp lúc bảy giờ sáng ngày mười lăm tháng tư',
    );
    expect(normalizeVietnamese('từ 19:05 đến 21h')).toBe('từ mười chín giờ năm phút đến hai mươi mốt giờ');
    expect(normalizeVietnamese('tiêm chủng tháng 4 và tháng 12')).toBe(
      'tiêm chủng tháng tư và tháng mười hai',
    );
    expect(normalizeVietnamese('hạn chót 01-10-2026')).toBe(
      'hạn chót ngày một tháng mười năm hai nghìn không trăm hai mươi sáu',
    );
  });

  it('reads money and units after their number', () => {
    expect(normalizeVietnamese('hỗ trợ 1.500.000 đồng mỗi hộ, phí 50.000đ')).toBe(
      'hỗ trợ một triệu năm trăm nghìn đồng mỗi hộ, phí năm mươi nghìn đồng',
    );
    expect(normalizeVietnamese('gió cấp 8, giật cấp 10, 75km/h')).toBe(
      'gió cấp tám, giật cấp mười, bảy mươi lăm ki-lô-mét trên giờ',
    );
    expect(normalizeVietnamese('nhiệt độ 35°C, độ ẩm 85%')).toBe(
      'nhiệt độ ba mươi lăm độ C, độ ẩm tám mươi lăm phần trăm',
    );
    expect(normalizeVietnamese('mưa 2,5mm trên 5ha, mực nước 1,2 m')).toBe(
      'mưa hai phẩy năm mi-li-mét trên năm héc-ta, mực nước một phẩy hai mét',
    );
  });

  it('reads phone numbers digit by digit in their groups', () => {
    expect(normalizeVietnamese('gọi 0912345678 hoặc 0211.3856.123')).toBe(
      'gọi không chín một hai, ba bốn năm, sáu bảy tám hoặc không hai một một, ba tám năm sáu, một hai ba',
    );
  });

  it("expands local government's abbreviations, and only whole words", () => {
    expect(normalizeVietnamese('UBND xã phối hợp MTTQ, HĐND và đội PCCC')).toBe(
      'Ủy ban nhân dân xã phối hợp Mặt trận Tổ quốc, Hội đồng nhân dân và đội phòng cháy chữa cháy',
    );
    expect(normalizeVietnamese('Ban chỉ huy PCTT và TKCN xã')).toBe(
      'Ban chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã',
    );
    expect(normalizeVietnamese('UBNDX')).toBe('UBNDX');
  });
});
